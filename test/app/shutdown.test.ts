// Graceful shutdown: a SIGTERM while a citizen's pickup is in flight. The pickup completes,
// every relay ends at its locked level, `offline` is published, the database closes, and a
// shutdown that hangs ends at its bound.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createShutdown } from '../../server/app/lifecycle.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { fastMap, loadDossier, startLocker, tempDir } from '../helpers/locker.ts';

const ROOT = join(import.meta.dirname, '../..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A locker map whose lock pulses last `pulseMs`, so a pulse can be caught in the act. */
function slowMap(dir: string, pulseMs: number): string {
  const path = fastMap(dir);
  const map = JSON.parse(readFileSync(path, 'utf8'));
  map.locks = { pulseMs, gapMs: 0 };
  writeFileSync(path, JSON.stringify(map));
  return path;
}

async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function subscriber(broker: TestBroker): Promise<{ client: MqttClient; availability: string[]; events: { type: string }[] }> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion, clientId: `shutdown-test-${process.pid}-${Date.now()}` });
  const availability: string[] = [];
  const events: { type: string }[] = [];
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/availability')) availability.push(JSON.parse(payload.toString()).state);
    if (topic.endsWith('/events')) events.push(JSON.parse(payload.toString()));
  });
  await client.subscribeAsync(['locker/locker-1/availability', 'locker/locker-1/events'], { qos: 1 });
  cleanups.push(() => client.endAsync());
  return { client, availability, events };
}

describe('graceful shutdown', () => {
  it('lets a pickup in flight finish, then leaves every relay locked, publishes offline and closes the database', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const sub = await subscriber(broker);
    const dir = tempDir('locker-shutdown-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    slowMap(dir, 400);
    const t = await startLocker({ dataDir: dir, env: { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting } });
    cleanups.push(() => (t.locker.ctx.store.db.open ? t.stop() : undefined));
    await until(() => sub.availability.at(-1) === 'online', 10_000, 'online');

    const staff = await t.login('staff');
    const door = await loadDossier(t, staff, 'H29.12-0001', '0912345678');
    const code = t.codeFor('0912345678');
    // A clerk is loading another dossier: its lock pulses now, so the citizen's pulse queues
    // behind it and the pickup request is still open when the signal comes.
    const other = await t.api('POST', '/api/v1/dossiers', { code: 'H29.12-0002', phone: '0987654321', size: 'S' }, staff);
    expect(other.status).toBe(201);
    expect(t.sim.energised()).toEqual([other.body.compartment]);
    const pickup = t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    const succeeded = t.locker.ctx.store.db.prepare(`SELECT 1 FROM audit_events WHERE type = 'pickup.succeeded'`);
    await until(() => succeeded.get() !== undefined, 5_000, 'the pickup to be decided');
    expect(t.sim.relayLog.filter((r) => r.compartment === door && r.energised)).toHaveLength(1); // loading only, so far

    const exits: number[] = [];
    const stopping = vi.fn(async () => undefined);
    const shutdown = createShutdown({ locker: t.locker, notifier: { stopping }, boundMs: 10_000, exit: (c) => exits.push(c) });
    const done = shutdown('SIGTERM');
    expect(stopping).toHaveBeenCalledTimes(1);

    const res = await pickup;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ compartment: door, doorToken: expect.any(String) });
    await done;
    expect(exits).toEqual([0]);
    // The citizen's pulse ran its full length before the bus stopped (stopping the bus would
    // cut it short), and every relay ended at its locked level. Nothing is energised now.
    const edges = t.sim.relayLog.filter((r) => r.compartment === door);
    const on = edges.map((r) => r.energised).lastIndexOf(true);
    expect(on).toBeGreaterThan(0);
    expect(edges[on + 1].energised).toBe(false);
    expect(edges[on + 1].at - edges[on].at).toBeGreaterThanOrEqual(390);
    expect(edges.at(-1)!.energised).toBe(false);
    expect(t.sim.energised()).toEqual([]);
    expect(t.locker.ctx.store.db.open).toBe(false);
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
    await until(() => sub.availability.at(-1) === 'offline', 5_000, 'offline');
  });

  it('ends at the bound with exit code 1 when stopping hangs, and a second signal starts nothing new', async () => {
    vi.useFakeTimers();
    const stop = vi.fn(() => new Promise<void>(() => undefined));
    const exits: number[] = [];
    const locker = { stop, log: pino({ level: 'silent' }), ctx: { doorBus: { energised: () => [] } } } as never;
    const shutdown = createShutdown({ locker, notifier: { stopping: async () => undefined }, boundMs: 10_000, exit: (c) => exits.push(c) });
    void shutdown('SIGTERM');
    void shutdown('SIGINT');
    expect(stop).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(9_999);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
  });

  it('does not exit before STOPPING=1 has gone out, when the stop is quicker than the notification', async () => {
    const exits: number[] = [];
    let sent!: () => void;
    // The notification queues behind a watchdog ping still in flight: it goes out later than the stop ends.
    const stopping = () => new Promise<void>((r) => (sent = r));
    const locker = { stop: async () => undefined, log: pino({ level: 'silent' }), ctx: { doorBus: { energised: () => [] } } } as never;
    const done = createShutdown({ locker, notifier: { stopping }, boundMs: 10_000, exit: (c) => exits.push(c) })('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    expect(exits).toEqual([]);
    sent();
    await done;
    expect(exits).toEqual([0]);
  });

  it('exits at the notification grace when STOPPING=1 never goes out', async () => {
    vi.useFakeTimers();
    const exits: number[] = [];
    const locker = { stop: async () => undefined, log: pino({ level: 'silent' }), ctx: { doorBus: { energised: () => [] } } } as never;
    const done = createShutdown({ locker, notifier: { stopping: () => new Promise<void>(() => undefined) }, boundMs: 10_000, notifyGraceMs: 3_000, exit: (c) => exits.push(c) })('SIGTERM');
    await vi.advanceTimersByTimeAsync(2_999);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(exits).toEqual([0]);
  });

  it('exits non-zero when a relay is still energised after stopping', async () => {
    const exits: number[] = [];
    const locker = { stop: async () => undefined, log: pino({ level: 'silent' }), ctx: { doorBus: { energised: () => [7] } } } as never;
    await createShutdown({ locker, notifier: { stopping: async () => undefined }, boundMs: 10_000, exit: (c) => exits.push(c) })('SIGTERM');
    expect(exits).toEqual([1]);
  });

  it('on a real SIGTERM to `npm start` during a pickup: the pickup completes, relays locked, offline published, exit 0', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const sub = await subscriber(broker);
    const dir = tempDir('locker-sigterm-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOCKER_DATA_DIR: join(dir, 'data'),
      LOCKER_MAP: slowMap(dir, 1500),
      LOCKER_HOST: '127.0.0.1',
      LOCKER_PORT: '0',
      LOCKER_MQTT_URL: broker.url,
      LOCKER_MQTT_PROTOCOL: broker.protocolSetting,
      LOCKER_LOG_LEVEL: 'info',
    };
    delete env.NOTIFY_SOCKET;
    const add = spawnSync(process.execPath, [join(ROOT, 'server/bin/locker.mjs'), 'user', 'add', 'lan', '--role', 'staff', '--password-stdin', '--init'], {
      env,
      input: 'a long staff password\n',
      encoding: 'utf8',
    });
    expect(add.status, add.stderr).toBe(0);

    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /is listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`locker exited early:\n${out}`)));
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    };

    const login = await api('POST', '/api/v1/session', { username: 'lan', password: 'a long staff password' });
    const token = login.body.token as string;
    const reg = await api('POST', '/api/v1/dossiers', { code: 'H29.12-0101', phone: '0912345678', size: 'S' }, token);
    expect(reg.status).toBe(201);
    const door = reg.body.compartment as number;
    await api('POST', `/api/v1/sim/compartments/${door}/door`, { open: true });
    await api('POST', `/api/v1/sim/compartments/${door}/door`, { open: false });
    expect((await api('POST', '/api/v1/dossiers/H29.12-0101/loaded', undefined, token)).status).toBe(200);
    const smsFile = join(dir, 'data', 'sms.jsonl');
    await until(() => existsSync(smsFile) && readFileSync(smsFile, 'utf8').includes('0912345678'), 10_000, 'the SMS');
    const code = /(?<!\d)\d{6}(?!\d)/.exec(readFileSync(smsFile, 'utf8'))![0];

    // Another door pulses for 1.5 s; the pickup queues behind it; SIGTERM once it is decided.
    expect((await api('POST', '/api/v1/dossiers', { code: 'H29.12-0102', phone: '0987654321', size: 'S' }, token)).status).toBe(201);
    const pickup = api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    await until(() => sub.events.some((e) => e.type === 'pickup.succeeded'), 5_000, 'pickup.succeeded on MQTT');
    child.kill('SIGTERM');

    const res = await pickup;
    expect(res).toEqual({ status: 200, body: { compartment: door, doorToken: expect.any(String) } });
    expect(await exited, out).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const final = lines.find((l) => /every relay at its locked level/.test(l.msg));
    expect(final, out).toBeTruthy();
    expect(final.energised).toEqual([]);
    await until(() => sub.availability.at(-1) === 'offline', 5_000, 'offline');
  });
});
