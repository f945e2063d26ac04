// The central service's Fastify app, around an already-built CentralContext.
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import securityPlugin from '../../http/plugins/security.ts';
import type { CentralContext } from './context.ts';
import authPlugin from './plugins/auth.ts';
import errorsPlugin from './plugins/errors.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { commandRoutes } from './routes/commands.ts';
import { healthRoutes } from './routes/health.ts';
import { lockerRoutes } from './routes/lockers.ts';
import { pageRoutes } from './routes/pages.ts';
import { pickupRoutes } from './routes/pickups.ts';
import { sessionRoutes } from './routes/session.ts';

declare module 'fastify' {
  interface FastifyInstance {
    central: CentralContext;
  }
}

/** serverOptions: how the sockets are made (server/http/listeners.ts); Fastify's own plain HTTP server without. */
export async function buildCentralHttp(ctx: CentralContext, logger: Logger, serverOptions: object = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions,
    loggerInstance: logger,
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(
    fp(
      async (instance) => {
        instance.decorate('central', ctx);
      },
      { name: 'central-context' },
    ),
  );
  await app.register(errorsPlugin);
  await app.register(securityPlugin);
  await app.register(authPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Central audit service API', version: '1.0.0', description: 'Collects every locker\'s audit events over MQTT: see server/central/README.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs/ui' });
  app.get('/docs', { schema: { hide: true } }, async (request, reply) => {
    if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/docs/ui/');
    return reply.type('application/json').send(app.swagger());
  });
  await app.register(sessionRoutes);
  await app.register(healthRoutes);
  await app.register(lockerRoutes);
  await app.register(pickupRoutes);
  await app.register(alarmRoutes);
  await app.register(commandRoutes);
  await app.register(pageRoutes);
  return app as unknown as FastifyInstance;
}
