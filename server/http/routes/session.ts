import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LoginBody, LoginReply, errorReplies } from '../schemas.ts';

export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/v1/session',
    { schema: { tags: ['staff'], summary: 'Log in', body: LoginBody, response: { 200: LoginReply, ...errorReplies } } },
    async (request) => app.locker.auth.login(request.body.username, request.body.password, request.ip),
  );

  app.delete(
    '/api/v1/session',
    {
      preHandler: app.requireRole('staff', 'auditor', 'admin'),
      schema: {
        tags: ['staff'],
        summary: 'Log out: the token stops working at once',
        security: [{ bearer: [] }],
        response: { 204: Type.Null(), ...errorReplies },
      },
    },
    async (request, reply) => {
      const token = (request.headers.authorization ?? '').slice('Bearer '.length);
      app.locker.auth.logout(token);
      return reply.status(204).send(null);
    },
  );
};
