// Prometheus text format, written by hand: a handful of gauges and counters needs no library.
import type { LockerContext } from '../app/context.ts';

function line(name: string, help: string, type: 'gauge' | 'counter', samples: [Record<string, string>, number][]): string {
  const out = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    out.push(`${name}${l ? `{${l}}` : ''} ${value}`);
  }
  return out.join('\n');
}

export function renderMetrics(ctx: LockerContext): string {
  const counts = ctx.compartments.counts();
  const sms = ctx.smsQueue.counts();
  const mqtt = ctx.mqttStatus();
  const stats = ctx.pickups.stats;
  const throttle = ctx.pickups.throttleState();
  const streamStats = ctx.streams.stats();
  return [
    line('locker_compartments', 'Compartments by status', 'gauge', Object.entries(counts).map(([status, n]) => [{ status }, n])),
    line('locker_pickups_total', 'Pickup attempts at the kiosk since start', 'counter', [
      [{ result: 'succeeded' }, stats.succeeded],
      [{ result: 'failed' }, stats.failed],
      [{ result: 'throttled' }, stats.throttled],
    ]),
    line('locker_kiosk_consecutive_failures', 'Consecutive failed pickups (kiosk throttle)', 'gauge', [[{}, throttle.consecutiveFailures]]),
    line('locker_sms_queue', 'SMS waiting or given up', 'gauge', [
      [{ state: 'queued' }, sms.queued],
      [{ state: 'failed' }, sms.failed],
    ]),
    line('locker_audit_seq', 'Latest audit event seq', 'gauge', [[{}, ctx.audit.latestSeq()]]),
    line('locker_outbox_depth', 'Audit events not yet acknowledged by the broker', 'gauge', [[{}, mqtt.outbox]]),
    line('locker_mqtt_connected', '1 when connected to the broker', 'gauge', [[{}, mqtt.state === 'connected' ? 1 : 0]]),
    line('locker_event_streams', 'Live console streams open', 'gauge', [[{}, streamStats.open]]),
    line('locker_event_streams_dropped_total', 'Live streams dropped since start: fell behind (too_slow, stalled) or replaced by a newer one of the session', 'counter',
      Object.entries(streamStats.dropped).map(([reason, n]) => [{ reason }, n])),
    line('locker_event_stream_buffered_bytes_max', 'Most bytes seen waiting for one live stream since start', 'gauge', [[{}, streamStats.maxBufferedBytes]]),
    line('process_resident_memory_bytes', 'Resident memory', 'gauge', [[{}, process.memoryUsage().rss]]),
  ].join('\n') + '\n';
}
