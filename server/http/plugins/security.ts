// Headers every answer carries. No CORS headers at all: the API is for same-origin pages only.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

async function security(app: FastifyInstance) {
  // A callback hook, not an async one: it runs on every answer, and has nothing to wait for.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-resource-policy', 'same-origin');
    if (!request.url.startsWith('/docs')) {
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    }
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    // Only on answers that came over TLS: the kiosk's plain loopback listener must not ask for HTTPS.
    if ((request.raw.socket as { encrypted?: boolean }).encrypted) reply.header('strict-transport-security', 'max-age=31536000');
    done(null, payload);
  });
}

export default fp(security, { name: 'security' });
