import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../../domain/errors.ts';
import { listAlarms } from '../../queries.ts';
import { AlarmList, AlarmParams, AlarmQuery, CloseAlarmBody, errorReplies } from '../schemas.ts';

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const readers = app.centralRole('auditor', 'admin');
  const admins = app.centralRole('admin');
  const security = [{ bearer: [] }];
  const ctx = app.central;

  app.get(
    '/api/v1/alarms',
    { preHandler: readers, schema: { tags: ['alarms'], summary: 'Alarms, newest first: about a trail (gap, broken, conflict, malformed) and the lockers\' own (closed when acknowledged at the locker)', security, querystring: AlarmQuery, response: { 200: AlarmList, ...errorReplies } } },
    async (request) => {
      const open = request.query.open === undefined ? undefined : request.query.open === 'true';
      return { alarms: (await listAlarms(ctx.db, { locker: request.query.locker, open })) as never[] };
    },
  );

  app.post(
    '/api/v1/alarms/:id/close',
    {
      preHandler: admins,
      schema: {
        tags: ['alarms'],
        summary: 'Close an alarm after investigation, with a note (a gap closes itself when the events arrive)',
        security,
        params: AlarmParams,
        body: CloseAlarmBody,
        response: { 200: AlarmList, ...errorReplies },
      },
    },
    async (request) => {
      const id = Number(request.params.id);
      const by = `staff:${request.centralUser!.username}`;
      const changed = await ctx.db.run(
        'UPDATE alarms SET closed_at = :now, closed_by = :by, note = :note WHERE id = :id AND closed_at IS NULL',
        { now: ctx.clock.now(), by, note: request.body.note, id },
      );
      const row = await ctx.db.get<{ locker: string; closed_at: number | null }>('SELECT locker, closed_at FROM alarms WHERE id = :id', { id });
      if (!row) throw new DomainError(404, 'not_found', `No alarm ${id}.`);
      if (changed === 0) throw new DomainError(409, 'already_closed', `Alarm ${id} is already closed.`);
      ctx.log.info({ alarm: id, locker: row.locker, by }, 'alarm closed');
      return { alarms: (await listAlarms(ctx.db, { locker: row.locker })).filter((a) => a.id === id) as never[] };
    },
  );
};
