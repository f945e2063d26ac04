import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../../domain/errors.ts';
import { listAlarms, listLockers, lockerEvents, lockerState, overdueDossiers } from '../../queries.ts';
import { checkTrail } from '../../trail-check.ts';
import { EventsPage, EventsQuery, LockerDetail, LockerList, LockerParams, VerifyReply, errorReplies } from '../schemas.ts';

export const lockerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const readers = app.centralRole('auditor', 'admin');
  const security = [{ bearer: [] }];
  const ctx = app.central;
  const unknown = (id: string) => new DomainError(404, 'not_found', `Locker ${id} has never been heard of.`);

  app.get(
    '/api/v1/lockers',
    { preHandler: readers, schema: { tags: ['lockers'], summary: 'Every locker: online or not since when, compartments, alarms, events, verified', security, response: { 200: LockerList, ...errorReplies } } },
    async () => ({ lockers: await listLockers(ctx.db, ctx.clock.now()) }),
  );

  app.get(
    '/api/v1/lockers/:id',
    { preHandler: readers, schema: { tags: ['lockers'], summary: 'One locker: summary, last state, overdue dossiers, alarms', security, params: LockerParams, response: { 200: LockerDetail, ...errorReplies } } },
    async (request) => {
      const { id } = request.params;
      const now = ctx.clock.now();
      const [locker] = await listLockers(ctx.db, now, id);
      if (!locker) throw unknown(id);
      return {
        locker,
        state: (await lockerState(ctx.db, id)) as Record<string, unknown> | null,
        overdue: await overdueDossiers(ctx.db, id, now),
        alarms: await listAlarms(ctx.db, { locker: id }, 200),
      } as never;
    },
  );

  app.get(
    '/api/v1/lockers/:id/verify',
    {
      preHandler: readers,
      schema: { tags: ['lockers'], summary: 'Verify the stored trail again: missing seqs, broken hashes or links', security, params: LockerParams, response: { 200: VerifyReply, ...errorReplies } },
    },
    async (request) => {
      const r = await checkTrail(ctx.db, request.params.id);
      if (!r) throw unknown(request.params.id);
      return r;
    },
  );

  app.get(
    '/api/v1/lockers/:id/events',
    {
      preHandler: readers,
      schema: { tags: ['lockers'], summary: 'The stored trail in seq order, as the locker published it', security, params: LockerParams, querystring: EventsQuery, response: { 200: EventsPage, ...errorReplies } },
    },
    async (request) => {
      const limit = Number(request.query.limit ?? 100);
      if (limit < 1 || limit > 1000) throw new DomainError(400, 'invalid_request', 'limit must be between 1 and 1000');
      const known = await ctx.db.get('SELECT 1 AS one FROM lockers WHERE id = :id', { id: request.params.id });
      if (!known) throw unknown(request.params.id);
      return lockerEvents(ctx.db, request.params.id, Number(request.query.after ?? 0), limit) as never;
    },
  );
};
