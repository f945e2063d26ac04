// Alarms and their acknowledgement, kept on the locker so every console sees who handled what.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.ts';
import { AckBody, AlarmItem, AlarmList, AlarmParams, AlarmQuery } from '../repair-schemas.ts';
import { errorReplies } from '../schemas.ts';

const security = [{ bearer: [] }];

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/v1/alarms',
    {
      preHandler: app.requireRole('staff', 'admin', 'auditor'),
      schema: {
        tags: ['staff'],
        summary: 'Alarm events, newest first, each with its acknowledgement (who, when, note); ?open=1 only those not acknowledged',
        security,
        querystring: AlarmQuery,
        response: { 200: AlarmList, ...errorReplies },
      },
    },
    async (request) => {
      const open = request.query.open === '1' || request.query.open === 'true';
      const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
      return { alarms: app.locker.alarms.list({ open, limit }) };
    },
  );

  app.post(
    '/api/v1/alarms/:seq/ack',
    {
      preHandler: app.requireRole('staff', 'admin'),
      // The body is optional: no body means no note.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['staff'],
        summary: 'Acknowledge an alarm (seq = the audit seq of the alarm event): audited as alarm.acknowledged, seen by every console',
        security,
        params: AlarmParams,
        body: AckBody,
        response: { 200: AlarmItem, ...errorReplies },
      },
    },
    async (request) => {
      const note = request.body.note?.trim() || null;
      return app.locker.alarms.acknowledge(actorOf(request), Number(request.params.seq), note);
    },
  );
};
