// Starts a real central audit service for a test: real HTTP port, real broker, and SQLite in a
// temp dir or PostgreSQL in a schema of its own (dropped afterwards).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { createCentral, type Central, type CentralOverrides } from '../../server/central/compose.ts';
import { loadCentralConfig } from '../../server/central/config.ts';
import type { CentralRole } from '../../server/central/auth.ts';
import type { Clock } from '../../server/domain/ports.ts';
import { tempDir } from '../helpers/locker.ts';

export type DbKind = 'sqlite' | 'postgres';

/** Where tests find PostgreSQL (this machine: trust auth on 127.0.0.1); CENTRAL_TEST_PG_URL overrides. */
export const PG_URL = process.env.CENTRAL_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

let reachable: Promise<string | null> | null = null;

/** null when PostgreSQL answers, else why not (the tests that need it are skipped, saying so). */
export function pgUnavailable(): Promise<string | null> {
  reachable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return null;
    } catch (err) {
      return `${PG_URL}: ${(err as Error).message}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
  return reachable;
}

export interface DbPlace {
  kind: DbKind;
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A fresh database: a temp dir for SQLite, a unique schema for PostgreSQL. */
export function freshDb(kind: DbKind): DbPlace {
  const dataDir = tempDir('central-test-');
  if (kind === 'sqlite') {
    return { kind, env: { CENTRAL_DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `central_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    kind,
    env: { CENTRAL_DATA_DIR: dataDir, CENTRAL_DATABASE_URL: PG_URL, CENTRAL_DATABASE_SCHEMA: schema },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestCentral {
  url: string;
  central: Central;
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  login(role: CentralRole, username?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface CentralStart {
  db: DbPlace;
  brokerUrl: string;
  env?: Record<string, string>;
  clock?: Clock;
  overrides?: CentralOverrides;
}

export async function startCentral(o: CentralStart): Promise<TestCentral> {
  const config = loadCentralConfig({
    CENTRAL_HOST: '127.0.0.1',
    CENTRAL_PORT: '0',
    CENTRAL_MQTT_URL: o.brokerUrl,
    CENTRAL_MQTT_CLIENT_ID: 'central-test-1',
    CENTRAL_LOG_LEVEL: 'silent',
    ...o.db.env,
    ...o.env,
  });
  const central = await createCentral(config, { ...(o.clock ? { clock: o.clock } : {}), ...o.overrides });
  const url = await central.start();
  const passwords = new Map<string, string>();
  const t: TestCentral = {
    url,
    central,
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
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    async login(role, username = `${role}1`) {
      const password = `pw-${username}-long`;
      if (!passwords.has(username)) {
        const exists = await central.ctx.db.get('SELECT 1 AS one FROM users WHERE username = :u', { u: username });
        if (!exists) await central.ctx.auth.addUser(username, role, password);
        passwords.set(username, password);
      }
      const res = await t.api('POST', '/api/v1/session', { username, password });
      if (res.status !== 200) throw new Error(`central login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    stop: () => central.stop(),
  };
  return t;
}

export async function waitUntil(what: string, pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
