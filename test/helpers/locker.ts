// Starts a real locker service (real SQLite file in a temp dir, real HTTP port, simulated doors)
// for a test, and gives the test a small HTTP client.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_MAP_PATH } from '../../locker-map/load.ts';
import { createLocker, type Locker, type Overrides } from '../../server/app/compose.ts';
import { loadConfig } from '../../server/config/load.ts';
import type { Role } from '../../server/domain/auth-service.ts';
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import { ManualClock } from './clock.ts';

export interface TestLocker {
  url: string;
  dataDir: string;
  locker: Locker;
  clock: ManualClock;
  sim: SimDoorBus;
  smsFile: string;
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers }>;
  login(role: Role, username?: string): Promise<string>;
  sms(): { to: string; text: string; at: string }[];
  /** The pickup code in the latest SMS to `phone` (local form 0xxxxxxxxx) that carries one (notices carry none). */
  codeFor(phone: string): string;
  stop(): Promise<void>;
  /** Stops and starts again on the same data dir (a restart). */
  restart(): Promise<TestLocker>;
}

export function fastMap(dir: string): string {
  const map = JSON.parse(readFileSync(EXAMPLE_MAP_PATH, 'utf8'));
  map.locks = { pulseMs: 10, gapMs: 0 };
  const path = join(dir, 'map.json');
  writeFileSync(path, JSON.stringify(map));
  return path;
}

export function tempDir(prefix = 'locker-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  dataDir?: string;
  overrides?: Overrides;
  keepDir?: boolean;
}

export async function startLocker(opts: StartOptions = {}): Promise<TestLocker> {
  const dataDir = opts.dataDir ?? tempDir();
  const clock = opts.clock ?? new ManualClock();
  const mapPath = existsSync(join(dataDir, 'map.json')) ? join(dataDir, 'map.json') : fastMap(dataDir);
  const config = loadConfig({
    LOCKER_DATA_DIR: dataDir,
    LOCKER_HOST: '127.0.0.1',
    LOCKER_PORT: '0',
    LOCKER_MAP: mapPath,
    LOCKER_LOG_LEVEL: 'silent',
    // The kiosk stays silent unless a test renders its voice (a built server/dist/voice would not).
    LOCKER_KIOSK_VOICE_DIR: join(dataDir, 'voice'),
    ...opts.env,
  });
  const locker = await createLocker(config, { clock, ...opts.overrides });
  const url = await locker.start();
  const sim = locker.ctx.sim!;
  const users = new Map<string, string>();

  const t: TestLocker = {
    url,
    dataDir,
    locker,
    clock,
    sim,
    smsFile: config.smsFile,
    async api(method, path, body, token) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async login(role, username = `${role}1`) {
      const password = `pw-${username}-long`;
      if (!users.has(username)) {
        const exists = locker.ctx.store.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username);
        if (!exists) await locker.ctx.auth.addUser(username, role, password);
        users.set(username, password);
      }
      const res = await t.api('POST', '/api/v1/session', { username, password });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    sms() {
      if (!existsSync(config.smsFile)) return [];
      return readFileSync(config.smsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    codeFor(phone) {
      const msgs = t.sms().filter((m) => m.to === phone);
      if (msgs.length === 0) throw new Error(`no SMS to ${phone}`);
      const withCode = msgs.map((x) => x.text.match(/(?<!\d)\d{6}(?!\d)/g)).filter((m) => m !== null);
      if (withCode.length === 0) throw new Error(`no SMS to ${phone} carries a code`);
      const m = withCode[withCode.length - 1];
      if (m.length !== 1) throw new Error('SMS does not carry exactly one 6-digit code');
      return m[0];
    },
    async stop() {
      await locker.stop();
      if (!opts.keepDir && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await locker.stop();
      return startLocker({ ...opts, dataDir, clock });
    },
  };
  return t;
}

/** Registers, loads (door opened and shut) and confirms a dossier; waits for its SMS. */
export async function loadDossier(t: TestLocker, token: string, code: string, phone: string, size: 'S' | 'M' | 'L' = 'S') {
  const reg = await t.api('POST', '/api/v1/dossiers', { code, phone, size }, token);
  if (reg.status !== 201) throw new Error(`register ${code}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const n = reg.body.compartment as number;
  t.sim.setDoor(n, true);
  t.sim.setDoor(n, false);
  const done = await t.api('POST', `/api/v1/dossiers/${code}/loaded`, undefined, token);
  if (done.status !== 200) throw new Error(`loaded ${code}: ${done.status} ${JSON.stringify(done.body)}`);
  await t.locker.sms.drain();
  return n;
}
