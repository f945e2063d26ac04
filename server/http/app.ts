// The Fastify adapter: builds the HTTP app around an already-built locker context.
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { LockerContext } from '../app/context.ts';
import authPlugin from './plugins/auth.ts';
import errorsPlugin from './plugins/errors.ts';
import securityPlugin from './plugins/security.ts';
import { auditRoutes } from './routes/audit.ts';
import { compartmentRoutes } from './routes/compartments.ts';
import { dossierRoutes } from './routes/dossiers.ts';
import { healthRoutes } from './routes/health.ts';
import { pickupRoutes } from './routes/pickups.ts';
import { sessionRoutes } from './routes/session.ts';
import { simRoutes } from './routes/sim.ts';
import { userRoutes } from './routes/users.ts';
import { eventRoutes } from './routes/events.ts';
import { pageRoutes } from './routes/pages.ts';
import { repairRoutes } from './routes/repairs.ts';
import { alarmRoutes } from './routes/alarms.ts';

declare module 'fastify' {
  interface FastifyInstance {
    locker: LockerContext;
  }
}

export const BODY_LIMIT = 16 * 1024;

/** serverOptions: how the sockets are made (server/http/listeners.ts); Fastify's own plain HTTP server without. */
export async function buildHttpApp(ctx: LockerContext, logger: Logger, serverOptions: object = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions,
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // An empty body on a body-less POST (loaded, withdraw) is fine, whatever its content type says.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    jsonParser(req, body as string, done);
  });

  await app.register(fp(async (instance) => {
    instance.decorate('locker', ctx);
  }, { name: 'locker-context' }));
  await app.register(errorsPlugin);
  await app.register(securityPlugin);
  await app.register(authPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Document-return locker API', version: '1.0.0', description: 'ATM hồ sơ 24/7: see README and shared contract.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs/ui' });
  // /docs is the OpenAPI document itself; a browser asking for HTML is sent to the viewer.
  app.get('/docs', { schema: { hide: true } }, async (request, reply) => {
    if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/docs/ui/');
    return reply.type('application/json').send(app.swagger());
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(sessionRoutes);
  await app.register(dossierRoutes);
  await app.register(compartmentRoutes);
  await app.register(pickupRoutes);
  await app.register(auditRoutes);
  await app.register(userRoutes);
  await app.register(healthRoutes);
  await app.register(simRoutes);
  await app.register(eventRoutes);
  await app.register(repairRoutes);
  await app.register(alarmRoutes);
  await app.register(pageRoutes);
  return app as unknown as FastifyInstance;
}
