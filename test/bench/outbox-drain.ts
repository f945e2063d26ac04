// 4. Outbox drain: 10,000 audit events queued while the locker had no broker, then drained to a
// local Mosquitto at QoS 1 by the locker's outbox publisher (read from SQLite, publish, delete on
// PUBACK, in-flight window), against raw mqtt.js publishing the same payloads at QoS 1 to the same
// broker with every publish outstanding at once.
//
// Run twice: against the broker configured as the README's production Mosquitto
// (`max_inflight_messages 1000`, which Mosquitto also advertises as its MQTT 5 receive maximum), and
// against a stock one (receive maximum 20). The locker keeps to the receive maximum; mqtt.js on its
// own does not, so the stock run shows what the broker's limit costs.
import { rmSync } from 'node:fs';
import mqtt from 'mqtt';
import { startBroker } from '../helpers/broker.ts';
import { startLocker, tempDir } from '../helpers/locker.ts';
import { round, type BenchResult } from './stats.ts';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`outbox drain: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Drain {
  queued: number;
  drained: number;
  oursMs: number;
  oursRate: number;
  rawMs: number;
  rawRate: number;
  receiveMaximum: number | undefined;
  broker: string;
}

async function drainOnce(events: number, brokerConfig: string[]): Promise<Drain> {
  const broker = await startBroker({ extraConfig: brokerConfig });
  const dataDir = tempDir('bench-outbox-');
  try {
    // Queue the events with no broker configured, as after an uplink outage.
    const offline = await startLocker({ dataDir });
    const { store, compartmentAdmin, audit } = offline.locker.ctx;
    store.tx(() => {
      for (let k = 0; k < events / 2; k++) {
        compartmentAdmin.disable('staff:bench', 1 + (k % 24));
        compartmentAdmin.enable('staff:bench', 1 + (k % 24));
      }
    });
    const queued = offline.locker.ctx.mqttStatus().outbox;
    const payloads: string[] = [];
    for (let after: number | null = 0; after !== null; ) {
      const page = audit.list(after, 1000);
      for (const e of page.events) payloads.push(JSON.stringify({ ...e, locker: 'bench-raw' }));
      after = page.next;
    }
    await offline.locker.stop();

    // Ours: the service starts with the broker and drains the outbox; timed from the connect.
    const env: Record<string, string> = { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting };
    if (process.env.LOCKER_MQTT_INFLIGHT) env.LOCKER_MQTT_INFLIGHT = process.env.LOCKER_MQTT_INFLIGHT;
    const t = await startLocker({ dataDir, env });
    await until(() => t.locker.ctx.mqttStatus().state === 'connected', 10_000, 'connect');
    const connectedAt = performance.now();
    await until(() => t.locker.ctx.mqttStatus().outbox === 0, 300_000, 'drain');
    const oursMs = performance.now() - connectedAt;
    const drained = t.locker.ctx.audit.latestSeq(); // nothing had been published before this start
    await t.locker.stop();

    // Raw mqtt.js: the same payloads, QoS 1, all outstanding at once; each resolves on its PUBACK.
    const raw = mqtt.connect(broker.url, { clientId: 'bench-raw', protocolVersion: broker.protocolVersion, clean: true });
    const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
      raw.once('connect', resolve);
      raw.once('error', reject);
    });
    const receiveMaximum = connack.properties?.receiveMaximum;
    const r0 = performance.now();
    await Promise.all(payloads.map((p) => raw.publishAsync('bench/bench-raw/events', p, { qos: 1 })));
    const rawMs = performance.now() - r0;
    await raw.endAsync();

    return {
      queued,
      drained,
      oursMs,
      // Rates, not times: the restart adds its own few start-up events to the locker's queue.
      oursRate: (drained / oursMs) * 1000,
      rawMs,
      rawRate: (payloads.length / rawMs) * 1000,
      receiveMaximum,
      broker: `${broker.kind} (MQTT ${broker.protocolSetting})`,
    };
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function outboxDrain(events = 10_000, rounds = 5): Promise<BenchResult> {
  // 10,000 events drain in a few hundred ms, so one round is at the mercy of the scheduler: each
  // side's rate is the median of `rounds` alternating rounds, each on a fresh broker.
  const runs: Drain[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await drainOnce(events, ['max_inflight_messages 1000']));
  const tuned = { ...runs[0], oursRate: median(runs.map((r) => r.oursRate)), rawRate: median(runs.map((r) => r.rawRate)), oursMs: median(runs.map((r) => r.oursMs)) };
  const stock = await drainOnce(events, []);
  const ratio = tuned.oursRate / tuned.rawRate;
  return {
    name: 'outbox drain',
    figures: {
      'events queued offline': tuned.queued,
      broker: tuned.broker,
      'production broker: receive maximum': tuned.receiveMaximum ?? 'not announced',
      'production broker: locker drain ms (median)': round(tuned.oursMs, 0),
      'production broker: locker events/s (median)': round(tuned.oursRate, 0),
      'production broker: raw mqtt.js events/s (median)': round(tuned.rawRate, 0),
      ratio: round(ratio, 2),
      'production broker: ratio per round': runs.map((r) => round(r.oursRate / r.rawRate, 2)).join(' '),
      'stock broker: receive maximum': stock.receiveMaximum ?? 'not announced',
      'stock broker: locker events/s': round(stock.oursRate, 0),
      'stock broker: raw mqtt.js events/s': round(stock.rawRate, 0),
      'stock broker: ratio': round(stock.oursRate / stock.rawRate, 2),
    },
    target: 'ratio >= 0.7 (production broker)',
    met: ratio >= 0.7,
    limit:
      "the broker's receive maximum (the locker keeps 4 of it for availability, state and answers; raw mqtt.js ignores it) and one PUBACK round trip per window",
  };
}
