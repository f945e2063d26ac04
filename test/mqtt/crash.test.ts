// The service dies (SIGKILL) after the broker has taken its publishes but before any PUBACK came
// back: the central office sees the last will, and after a restart every event still arrives,
// exactly once after de-duplication by id, with no seq gaps.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../helpers/broker.ts';
import { fastMap, startLocker, tempDir } from '../helpers/locker.ts';
import { Consumer } from './consumer.ts';
import { TcpProxy } from './tcp-proxy.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

interface Service {
  child: ChildProcess;
  url: string;
}

/** Runs the service as `npm start` does, as its own process. */
async function spawnService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = out.match(/is listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

async function kill(s: Service): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.kill('SIGKILL');
  });
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  return res.json();
}

async function waitForHealth(s: Service, what: string, pred: (h: any) => boolean, ms = 20_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await json(`${s.url}/healthz`);
    if (pred(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h.mqtt)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens and shuts a few doors by hand: two audit events each, no login needed (sim doors). */
async function toggleDoors(s: Service, times: number): Promise<void> {
  for (let k = 0; k < times; k++) {
    const n = 1 + (k % 24);
    for (const open of [true, false]) {
      const res = await fetch(`${s.url}/api/v1/sim/compartments/${n}/door`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ open }),
      });
      if (res.status !== 200) throw new Error(`sim door ${n}: ${res.status}`);
    }
  }
}

describe('a service killed between publish and acknowledgement', () => {
  it('shows offline through the last will and loses no event after a restart', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const central = await Consumer.connect(broker);
    cleanups.push(() => central.close());
    const proxy = await TcpProxy.create(broker.port);
    cleanups.push(() => proxy.cut());

    const dataDir = tempDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      LOCKER_DATA_DIR: dataDir,
      LOCKER_MAP: fastMap(dataDir),
      LOCKER_HOST: '127.0.0.1',
      LOCKER_PORT: '0',
      LOCKER_LOG_LEVEL: 'warn',
      LOCKER_MQTT_URL: proxy.url,
      LOCKER_MQTT_PROTOCOL: broker.protocolSetting,
      LOCKER_MQTT_INFLIGHT: '8',
    };
    // An auditor account, made the way the tests make accounts, to read compartments over HTTP.
    const setup = await startLocker({ dataDir, env: { ...env, LOCKER_MQTT_URL: '' } });
    await setup.login('auditor');
    await setup.stop();

    let svc = await spawnService(env);
    await central.waitFor('online', () => central.lastAvailability() === 'online');
    await toggleDoors(svc, 10);
    let last = (await json(`${svc.url}/healthz`)).database.auditSeq;
    await central.waitFor('the first events', () => central.check().maxSeq === last && central.check().gaps.length === 0);
    await waitForHealth(svc, 'every PUBACK', (h) => h.mqtt.outbox === 0);

    // From now on the broker takes publishes but the locker hears no PUBACK.
    proxy.withholdReplies = true;
    const beforeHold = last;
    await toggleDoors(svc, 10);
    last = (await json(`${svc.url}/healthz`)).database.auditSeq;
    expect(last).toBe(beforeHold + 20);
    await central.waitFor('published but unacknowledged events', () => central.check().maxSeq === beforeHold + 8);
    const h = (await json(`${svc.url}/healthz`)).mqtt;
    expect(h.outbox).toBe(20);
    expect(h.inFlight).toBe(8);
    const offlineBefore = central.availability.filter((a) => a.state === 'offline').length;

    await kill(svc);
    await central.waitFor('the last will', () => central.availability.filter((a) => a.state === 'offline').length > offlineBefore);
    expect(central.lastAvailability()).toBe('offline');

    proxy.withholdReplies = false;
    svc = await spawnService(env);
    await central.waitFor('online after the restart', () => central.lastAvailability() === 'online');
    await toggleDoors(svc, 5);
    last = (await json(`${svc.url}/healthz`)).database.auditSeq;
    const health = await waitForHealth(svc, 'the outbox to drain', (h) => h.mqtt.outbox === 0, 30_000);
    expect(health.mqtt).toMatchObject({ state: 'connected', outbox: 0, inFlight: 0 });
    await central.waitFor('every seq', () => central.check().unique === last, 30_000);

    const c = central.check();
    expect(c.gaps).toEqual([]);
    expect(c.conflicts).toEqual([]);
    expect(c.unique).toBe(last);
    expect(c.chainOk).toBe(true);
    // The events the broker had taken before the kill were sent again: QoS 1's duplicates,
    // which the consumer removed by id.
    expect(c.duplicates).toBeGreaterThanOrEqual(8);

    // The retained state after the reconnect matches the compartments the locker reports.
    const session = await json(`${svc.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'auditor1', password: 'pw-auditor1-long' }),
    });
    const compartments = await json(`${svc.url}/api/v1/compartments`, { headers: { authorization: `Bearer ${session.token}` } });
    await central.waitFor('the latest state', () => central.lastState()?.seq === last);
    expect(central.lastState().compartments).toEqual(compartments.compartments);

    // A clean stop says offline itself (the will is not sent on a clean disconnect).
    const offlineNow = central.availability.filter((a) => a.state === 'offline').length;
    const exited = new Promise((r) => svc.child.once('exit', r));
    svc.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await central.waitFor('offline on shutdown', () => central.availability.filter((a) => a.state === 'offline').length > offlineNow);
  }, 90_000);
});
