import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerToken } from '../plugins/auth.ts';
import { LoginBody, LoginReply, errorReplies } from '../schemas.ts';

export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Log in (auditor or admin)', body: LoginBody, response: { 200: LoginReply, ...errorReplies } } },
    async (request) => app.central.auth.login(request.body.username, request.body.password, request.ip),
  );
  app.delete(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Log out (ends this token)', response: { 204: Type.Null(), ...errorReplies } } },
    async (request, reply) => {
      const token = bearerToken(request);
      if (token) await app.central.auth.logout(token);
      return reply.status(204).send(null);
    },
  );
};
