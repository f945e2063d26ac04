// Live updates for the staff console: server-sent events fed by Store.onCommit.
// A stream carries compartment states and slim event headers only: no `data` field, so no
// masked phone, no reason text, and never a pickup code. The one exception is the number of the
// alarm an `alarm.acknowledged` event handles (`alarmSeq`), so other consoles can clear it live. Browsers read it with fetch() (so the
// bearer token travels in a header, never in a URL that could end up in a log).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuditEvent } from '../../domain/audit-event.ts';
import { sseFrame } from '../event-streams.ts';
import { ALARM_ACK_TYPE, ALARM_TYPES } from '../../web/lib/alarm-types.js';
import { errorReplies } from '../schemas.ts';

export { ALARM_TYPES };
/** How far back the first message of a stream looks for alarms. */
const ALARM_LOOKBACK_EVENTS = 5000;
const ALARM_LIMIT = 50;
const HEARTBEAT_MS = 15_000;
const COALESCE_MS = 50;

export interface SlimEvent {
  seq: number;
  at: string;
  type: string;
  actor: string;
  compartment?: number;
  dossier?: string;
  /** Only on `alarm.acknowledged`: the seq of the alarm it handles. */
  alarmSeq?: number;
}

export function slim(
  e: Pick<AuditEvent, 'seq' | 'at' | 'type' | 'actor'> & { compartment?: number | null; dossier?: string | null; data?: Record<string, unknown> },
): SlimEvent {
  const alarmSeq = e.type === ALARM_ACK_TYPE ? e.data?.alarmSeq : undefined;
  return {
    seq: e.seq,
    at: e.at,
    type: e.type,
    actor: e.actor,
    ...(e.compartment != null ? { compartment: e.compartment } : {}),
    ...(e.dossier != null ? { dossier: e.dossier } : {}),
    ...(typeof alarmSeq === 'number' ? { alarmSeq } : {}),
  };
}

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.locker;
  const streams = ctx.streams;
  let buffered: SlimEvent[] = [];
  let flushTimer: NodeJS.Timeout | null = null;

  const flush = () => {
    flushTimer = null;
    const events = buffered;
    buffered = [];
    if (streams.size === 0 || events.length === 0) return;
    // One frame for every stream: the text is built once, whatever the number of consoles.
    streams.broadcast(sseFrame('change', { seq: events[events.length - 1].seq, events, compartments: ctx.compartments.list() }));
  };

  // Commits come in bursts (an unlock writes two events, a door three): one message per burst.
  const unsubscribe = ctx.store.onCommit((events) => {
    if (streams.size === 0) return;
    for (const e of events) buffered.push(slim(e));
    flushTimer ??= setTimeout(flush, COALESCE_MS);
  });

  // A session that expired or was logged out ends its stream; the page then asks to log in.
  const heartbeat = setInterval(() => streams.heartbeat((token) => ctx.auth.authenticate(token) !== null), HEARTBEAT_MS);
  heartbeat.unref();

  const recentAlarms = ctx.store.db.prepare<unknown[], { seq: number; at: string; type: string; actor: string; compartment: number | null; dossier: string | null }>(
    `SELECT seq, at, type, actor, compartment, dossier FROM audit_events
     WHERE seq > ? AND type IN (${ALARM_TYPES.map(() => '?').join(', ')})
       AND NOT EXISTS (SELECT 1 FROM alarm_acks a WHERE a.alarm_seq = audit_events.seq)
     ORDER BY seq DESC LIMIT ${ALARM_LIMIT}`,
  );

  // Open streams would keep the server from closing: end them before it stops listening.
  app.addHook('preClose', async () => {
    unsubscribe();
    clearInterval(heartbeat);
    if (flushTimer) clearTimeout(flushTimer);
    streams.closeAll();
  });

  app.get(
    '/api/v1/events/stream',
    {
      preHandler: app.requireRole('staff', 'admin', 'auditor'),
      schema: {
        tags: ['staff'],
        summary:
          'Live updates (text/event-stream): first `snapshot` {seq, compartments, alarms (those not acknowledged)}, then `change` {seq, events, compartments} after each commit. Events carry seq, at, type, actor, compartment, dossier only (and alarmSeq on alarm.acknowledged). A console more than 256 KiB (or 30 s) behind is disconnected; a session holds 4 streams at most, a fifth replaces the oldest, which gets a last `end` {reason: "replaced", perSession}. 503 `too_many_streams` when all 32 are taken.',
        security: [{ bearer: [] }],
        response: { ...errorReplies },
      },
    },
    async (request, reply) => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')![1];
      streams.admit(token);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      const client = streams.add(res, token, request.principal!.username);
      const latest = ctx.audit.latestSeq();
      const alarms = recentAlarms.all(Math.max(0, latest - ALARM_LOOKBACK_EVENTS), ...ALARM_TYPES).map(slim).reverse();
      streams.write(client, 'retry: 3000\n\n');
      streams.write(client, sseFrame('snapshot', { seq: latest, compartments: ctx.compartments.list(), alarms }));
    },
  );
};
