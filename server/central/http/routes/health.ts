import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CentralHealth } from '../schemas.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.central;
  const counts = async () => {
    const r = await ctx.db.get<{ lockers: number; events: number; alarms: number }>(
      `SELECT (SELECT COUNT(*) FROM lockers) AS lockers, (SELECT COALESCE(SUM(events), 0) FROM lockers) AS events,
              (SELECT COUNT(*) FROM alarms WHERE closed_at IS NULL) AS alarms`,
    );
    return { lockers: Number(r?.lockers ?? 0), events: Number(r?.events ?? 0), alarms: Number(r?.alarms ?? 0) };
  };

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'State of the database and the broker link', response: { 200: CentralHealth } } }, async () => {
    let database = 'ok';
    let c = { lockers: 0, events: 0, alarms: 0 };
    try {
      c = await counts();
    } catch {
      database = 'error';
    }
    const mqtt = ctx.mqttStatus() ?? { state: 'disabled' };
    return {
      status: database === 'ok' && mqtt.state === 'connected' ? ('ok' as const) : ('degraded' as const),
      service: 'central' as const,
      uptimeSec: Math.floor((Date.now() - ctx.startedAt) / 1000),
      database: { state: database, kind: ctx.db.dialect, lockers: c.lockers, events: c.events },
      mqtt,
    };
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (loopback only)' } }, async (request, reply) => {
    if (!LOOPBACK.test(request.ip)) return reply.status(403).send({ error: 'forbidden', message: '/metrics answers only on the host itself' });
    const c = await counts();
    const m = ctx.mqttStatus();
    const lines = [
      '# HELP central_lockers Lockers known to the central service',
      '# TYPE central_lockers gauge',
      `central_lockers ${c.lockers}`,
      '# HELP central_events_stored Events stored, all lockers',
      '# TYPE central_events_stored gauge',
      `central_events_stored ${c.events}`,
      '# HELP central_alarms_open Open alarms (gap, broken, conflict, malformed)',
      '# TYPE central_alarms_open gauge',
      `central_alarms_open ${c.alarms}`,
      '# HELP central_mqtt_messages_total Messages handled by this instance since start',
      '# TYPE central_mqtt_messages_total counter',
      `central_mqtt_messages_total{result="received"} ${m?.received ?? 0}`,
      `central_mqtt_messages_total{result="stored"} ${m?.stored ?? 0}`,
      `central_mqtt_messages_total{result="duplicate"} ${m?.duplicates ?? 0}`,
      `central_mqtt_messages_total{result="conflict"} ${m?.conflicts ?? 0}`,
      `central_mqtt_messages_total{result="malformed"} ${m?.malformed ?? 0}`,
      '# HELP central_mqtt_connected 1 when connected to the broker',
      '# TYPE central_mqtt_connected gauge',
      `central_mqtt_connected ${m?.state === 'connected' ? 1 : 0}`,
    ];
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(lines.join('\n') + '\n');
  });
};
