// `npx locker central user add ...` and `npx locker central`, as separate processes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCentralCli } from '../../server/central/cli.ts';
import { startBroker } from '../helpers/broker.ts';
import { freshDb, type DbPlace } from './helpers.ts';
import { BIN, spawnCentral } from './process.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** The same command in this process (spawning costs seconds per run on a busy machine). */
async function runHere(place: DbPlace, args: string[], input = '', env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (d) => (out += d));
  const stderr = new PassThrough().on('data', (d) => (err += d));
  const code = await runCentralCli(args.slice(1), { stdin: Readable.from([Buffer.from(input)]), stdout, stderr }, { ...place.env, CENTRAL_LOG_LEVEL: 'silent', ...env });
  return { code, out, err };
}

function run(place: DbPlace, args: string[], input = '', env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, env: { ...process.env, ...place.env, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('locker central (command line)', () => {
  it('adds auditors and admins with the password from standard input, and refuses bad requests', async () => {
    const place = freshDb('sqlite');
    cleanups.push(() => place.drop());
    const ok = run(place, ['central', 'user', 'add', 'lan', '--role', 'auditor', '--password-stdin'], 'a long password\n');
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toContain('lan');
    expect(ok.out + ok.err).not.toContain('a long password');
    const db = new Database(join(place.env.CENTRAL_DATA_DIR, 'central.db'), { readonly: true });
    expect(db.prepare('SELECT username, role FROM users').all()).toEqual([{ username: 'lan', role: 'auditor' }]);
    expect((db.prepare('SELECT password_hash FROM users').get() as { password_hash: string }).password_hash).toMatch(/^scrypt\$/);
    db.close();
    const refusals: [string[], string, RegExp][] = [
      [['central', 'user', 'add', 'lan', '--role', 'admin', '--password-stdin'], 'another long one', /already exists/],
      [['central', 'user', 'add', 'hoa', '--role', 'staff', '--password-stdin'], 'a long password', /--role must be one of auditor, admin/],
      [['central', 'user', 'add', 'hoa', '--role', 'admin'], 'a long password', /--password-stdin/],
      [['central', 'user', 'add', 'hoa', '--role', 'admin', '--password-stdin'], 'short', /at least 8/],
      [['central', 'user', 'add', 'bad name', '--role', 'admin', '--password-stdin'], 'a long password', /username/],
      [['central', 'frobnicate'], '', /unknown command/],
    ];
    for (const [args, input, message] of refusals) {
      const r = await runHere(place, args, input);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.err).toMatch(message);
    }
  });

  it('refuses to start without a broker, naming the variable', async () => {
    const place = freshDb('sqlite');
    cleanups.push(() => place.drop());
    const r = await runHere(place, ['central'], '', { CENTRAL_MQTT_URL: '' });
    expect(r.code).toBe(1);
    expect(r.err + r.out).toMatch(/CENTRAL_MQTT_URL/);
    const bad = await runHere(place, ['central'], '', { CENTRAL_MQTT_URL: 'http://broker', CENTRAL_PORT: '1' });
    expect(bad.code).toBe(1);
    expect(bad.err + bad.out).toMatch(/CENTRAL_MQTT_URL: must start with mqtt/);
  });

  it('says a bad setting in one plain line on stderr, with no log line or stack trace, as a separate process', () => {
    const place = freshDb('sqlite');
    cleanups.push(() => place.drop());
    const r = run(place, ['central'], '', { CENTRAL_MQTT_URL: 'http://broker', CENTRAL_LOG_LEVEL: 'info' });
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toEqual([expect.stringMatching(/^locker central: start-up failed: .*CENTRAL_MQTT_URL: must start with mqtt/)]);
    expect(r.out).toBe('');
  });

  it('runs the service, lets a user made on the command line log in, and stops cleanly on SIGTERM', { timeout: 60_000 }, async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const place = freshDb('sqlite');
    cleanups.push(() => place.drop());
    expect(run(place, ['central', 'user', 'add', 'mai', '--role', 'admin', '--password-stdin'], 'mai has a long password').code).toBe(0);
    const svc = await spawnCentral({ ...place.env, CENTRAL_MQTT_URL: broker.url, CENTRAL_HOST: '127.0.0.1', CENTRAL_PORT: '0', CENTRAL_MQTT_CLIENT_ID: 'central-cli-test' });
    cleanups.push(() => svc.stop());
    const login = await fetch(`${svc.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'mai', password: 'mai has a long password' }) });
    expect(login.status).toBe(200);
    expect((await login.json()).role).toBe('admin');
    const health = await (await fetch(`${svc.url}/healthz`)).json();
    expect(health).toMatchObject({ service: 'central', database: { kind: 'sqlite' } });
    expect(await svc.stop()).toBe(0);
  });
});
