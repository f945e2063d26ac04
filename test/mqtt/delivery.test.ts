// No event is lost: a central consumer subscribed throughout gets every audit event exactly once
// after de-duplication by id, with no seq gaps, through a broker restart mid-stream and through
// a long uplink outage with 10,000 events waiting in the outbox.
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { Consumer } from './consumer.ts';
import { TcpProxy } from './tcp-proxy.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(url: (broker: TestBroker) => Promise<string>) {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const central = await Consumer.connect(broker);
  cleanups.push(() => central.close());
  const t = await startLocker({ env: { LOCKER_MQTT_URL: await url(broker), LOCKER_MQTT_PROTOCOL: broker.protocolSetting } });
  cleanups.push(() => t.stop());
  return { broker, central, t };
}

async function health(t: TestLocker) {
  return (await t.api('GET', '/healthz')).body.mqtt;
}

/** Waits until the locker's outbox is empty and the consumer holds every seq up to the latest. */
async function drained(t: TestLocker, central: Consumer, ms = 30_000) {
  await central.waitFor('the outbox to drain', () => t.locker.ctx.mqttStatus().outbox === 0, ms);
  const last = t.locker.ctx.audit.latestSeq();
  await central.waitFor(`every seq up to ${last}`, () => new Set(central.events.map((e) => e.seq)).size >= last, ms);
}

/** One citizen collecting one dossier: register, load, confirm, pick up, open and shut the door. */
async function pickupCycle(t: TestLocker, token: string, i: number) {
  const phone = `0912${String(i).padStart(6, '0')}`;
  const code = `D-${i}`;
  const n = await loadDossier(t, token, code, phone);
  const res = await t.api('POST', '/api/v1/pickups', { phone, code: t.codeFor(phone) });
  if (res.status !== 200) throw new Error(`pickup ${code}: ${res.status}`);
  t.sim.setDoor(n, true);
  t.sim.setDoor(n, false);
}

describe('event delivery over MQTT', () => {
  it('delivers every event exactly once when the broker stops for a while during a stream of pickups', async () => {
    const { broker, central, t } = await setup(async (b) => b.url);
    await central.waitFor('online', () => central.lastAvailability() === 'online');
    const token = await t.login('staff');

    let i = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) await pickupCycle(t, token, i++);
    })();
    const started = Date.now();
    await central.waitFor('a few pickups', () => i >= 5);
    await broker.stop();
    const cyclesBeforeStop = i;
    await central.waitFor('pickups while the broker is down', () => i >= cyclesBeforeStop + 5 && Date.now() - started > 1500);
    const during = await health(t);
    expect(during.state).not.toBe('connected');
    expect(during.outbox).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1500));
    await broker.start();
    await central.waitFor('the locker back online', () => t.locker.ctx.mqttStatus().state === 'connected');
    const cyclesAfter = i;
    await central.waitFor('pickups after the restart', () => i >= cyclesAfter + 5);
    streaming = false;
    await stream;

    await drained(t, central);
    const c = central.check();
    expect(c.maxSeq).toBe(t.locker.ctx.audit.latestSeq());
    expect(c.gaps).toEqual([]);
    expect(c.conflicts).toEqual([]);
    expect(c.unique).toBe(t.locker.ctx.audit.latestSeq());
    expect(c.chainOk).toBe(true);
    expect(new Set(central.events.filter((e) => e.type === 'pickup.succeeded').map((e) => e.id)).size).toBe(i);
    expect(central.events.every((e) => e.locker === 'locker-1')).toBe(true);
    // Nothing personal on the wire: masked phones only, never a pickup code.
    // Each number the test gave, in full, in either form: a pattern like /0912\d{6}/ also matches,
    // now and then, a run inside a SHA-256 hash or an event id, which are hex.
    const wire = JSON.stringify(central.events);
    for (let k = 0; k < i; k++) {
      const phone = `0912${String(k).padStart(6, '0')}`;
      expect(wire).not.toContain(phone);
      expect(wire).not.toContain(`84${phone.slice(1)}`);
    }
    expect(wire).toMatch(/09\*{6}\d\d/);

    // The retained state a newcomer gets after the reconnect is the locker's state now.
    await central.waitFor('the final state', () => central.lastState()?.seq === t.locker.ctx.audit.latestSeq());
    const late = await Consumer.connect(broker);
    cleanups.push(() => late.close());
    await late.waitFor('retained state and availability', () => late.states.length > 0 && late.availability.length > 0);
    expect(late.states[0].retained).toBe(true);
    expect(late.states[0].payload.compartments).toEqual(t.locker.ctx.compartments.list());
    expect(late.states[0].payload.seq).toBe(t.locker.ctx.audit.latestSeq());
    expect(late.availability[0]).toEqual({ state: 'online', retained: true });
  }, 90_000);

  it('drains 10,000 events queued while the uplink was down, each exactly once and in a gap-free trail', async () => {
    let proxy!: TcpProxy;
    const { central, t } = await setup(async (b) => {
      proxy = await TcpProxy.create(b.port, false);
      cleanups.push(() => proxy.cut());
      return proxy.url;
    });
    const { store, compartmentAdmin, audit } = t.locker.ctx;
    const initial = audit.latestSeq();
    store.tx(() => {
      for (let k = 0; k < 5000; k++) {
        compartmentAdmin.disable('staff:clerk', 1 + (k % 24));
        compartmentAdmin.enable('staff:clerk', 1 + (k % 24));
      }
    });
    expect(audit.latestSeq()).toBe(initial + 10_000);
    const offline = await health(t);
    expect(offline.state).not.toBe('connected');
    expect(offline.outbox).toBe(initial + 10_000);

    const opened = Date.now();
    await proxy.open();
    await drained(t, central, 120_000);
    const ms = Date.now() - opened;
    console.log(`drained ${initial + 10_000} events in ${ms} ms (${Math.round(((initial + 10_000) / ms) * 1000)} events/s)`);

    const c = central.check();
    expect(c.unique).toBe(initial + 10_000);
    expect(c.gaps).toEqual([]);
    expect(c.conflicts).toEqual([]);
    expect(c.chainOk).toBe(true);
    // Nothing went wrong on the way, so nothing was sent twice.
    expect(c.duplicates).toBe(0);
    expect((await health(t)).outbox).toBe(0);
    // First transmissions leave in seq order.
    const firstSeen = central.events.map((e) => e.seq);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
  }, 150_000);
});
