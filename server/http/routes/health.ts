import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health } from '../schemas.ts';
import { renderMetrics } from '../metrics.ts';
import type { DoorBus } from '../../../firmware-bridge/door-bus.ts';

function doorsHealth(bus: DoorBus, faults: number) {
  const boards = bus.boardHealth?.().map((b) => ({ id: b.id, address: b.address, state: b.state, compartments: b.compartments.length }));
  const state = boards?.some((b) => b.state === 'gone') ? 'degraded' : 'ok';
  return { driver: bus.driver, state, faults, ...(boards ? { boards } : {}) };
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'State of each part', response: { 200: Health } } }, async () => {
    const ctx = app.locker;
    let database = 'ok';
    let auditSeq = 0;
    try {
      auditSeq = ctx.audit.latestSeq();
    } catch {
      database = 'error';
    }
    const counts = database === 'ok' ? ctx.compartments.counts() : { fault: 0 };
    const sms = database === 'ok' ? ctx.smsQueue.counts() : { queued: 0, failed: 0 };
    return {
      status: database === 'ok' ? ('ok' as const) : ('degraded' as const),
      locker: ctx.config.lockerId,
      uptimeSec: Math.floor((Date.now() - ctx.startedAt) / 1000),
      database: { state: database, auditSeq },
      doors: doorsHealth(ctx.doorBus, counts.fault),
      sms: database === 'ok' && ctx.smsStatus ? ctx.smsStatus() : { channel: ctx.smsChannel, queued: sms.queued, failed: sms.failed },
      mqtt: ctx.mqttStatus(),
    };
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (loopback only)', hide: false } }, async (request, reply) => {
    if (!LOOPBACK.test(request.ip)) return reply.status(403).send({ error: 'forbidden', message: '/metrics answers only on the host itself' });
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(app.locker));
  });
};
