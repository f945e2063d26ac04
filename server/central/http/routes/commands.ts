import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../../domain/errors.ts';
import { CommandBody, CommandList, CommandReply, LockerParams, TransactionParams, errorReplies } from '../schemas.ts';

export const commandRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admins = app.centralRole('admin');
  const readers = app.centralRole('auditor', 'admin');
  const security = [{ bearer: [] }];
  const ctx = app.central;

  app.post(
    '/api/v1/lockers/:id/commands',
    {
      preHandler: admins,
      schema: {
        tags: ['commands'],
        summary: 'Send a command to a locker over MQTT and wait for its answer (202 with status "pending" if none comes in time)',
        security,
        params: LockerParams,
        body: CommandBody,
        response: { 200: CommandReply, 202: CommandReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const { command, args, transaction } = request.body;
      const r = await ctx.commands.send(request.params.id, command, (args ?? {}) as Record<string, unknown>, `staff:${request.centralUser!.username}`, transaction);
      return reply.status(r.status === 'pending' ? 202 : 200).send(r as never);
    },
  );

  app.get(
    '/api/v1/lockers/:id/commands',
    { preHandler: readers, schema: { tags: ['commands'], summary: 'Commands sent to a locker, newest first', security, params: LockerParams, response: { 200: CommandList, ...errorReplies } } },
    async (request) => ({ commands: (await ctx.commands.list(request.params.id)) as never[] }),
  );

  app.get(
    '/api/v1/commands/:transaction',
    { preHandler: readers, schema: { tags: ['commands'], summary: 'One command and the locker\'s answer, once it came', security, params: TransactionParams, response: { 200: CommandReply, ...errorReplies } } },
    async (request) => {
      const r = await ctx.commands.get(request.params.transaction);
      if (!r) throw new DomainError(404, 'not_found', `No command with transaction ${request.params.transaction}.`);
      return r as never;
    },
  );
};
