// `locker user list|passwd|disable|enable|unlock` as separate processes, against the database of a
// service that runs meanwhile (the command-line tool takes no lock), and the refusal to make a new
// database where the service has none.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.ts';
import { startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';

const BIN = join(import.meta.dirname, '../../server/bin/locker.mjs');
const dirs: string[] = [];
let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Asynchronous, so an in-process service keeps answering while the command runs.
function locker(args: string[], opts: { dataDir?: string; cwd?: string; input?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOCKER_LOG_LEVEL: 'silent' };
  delete env.LOCKER_DATA_DIR;
  delete env.LOCKER_CONFIG;
  if (opts.dataDir) env.LOCKER_DATA_DIR = opts.dataDir;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: opts.cwd });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.input ?? '');
  });
}

// The service on the wall clock: the command-line tool judges login blocks by it.
async function running(): Promise<TestLocker> {
  t = await startLocker({ clock: new ManualClock(Date.now()) });
  return t;
}

const login = (tl: TestLocker, username: string, password: string) => tl.api('POST', '/api/v1/session', { username, password });

function events(tl: TestLocker, type: string) {
  return tl.locker.ctx.store.db.prepare('SELECT actor, data FROM audit_events WHERE type = ? ORDER BY seq').all(type) as { actor: string; data: string }[];
}

describe('locker user commands on a data dir without a database', () => {
  it('refuse, naming the absolute data dir and --init, and create nothing; --init creates the database', async () => {
    const cwd = tempDir();
    dirs.push(cwd);
    const add = await locker(['user', 'add', 'mai', '--role', 'admin', '--password-stdin'], { cwd, input: 'a long password\n' });
    expect(add.code).toBe(1);
    expect(add.err).toContain(join(cwd, 'data'));
    expect(add.err).toMatch(/LOCKER_DATA_DIR/);
    expect(add.err).toMatch(/--init/);
    expect(existsSync(join(cwd, 'data', 'locker.db'))).toBe(false);
    for (const args of [['user', 'list'], ['user', 'disable', 'mai'], ['audit', 'verify']]) {
      const r = await locker(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(join(cwd, 'data'));
    }
    expect(existsSync(join(cwd, 'data', 'locker.db'))).toBe(false);

    const init = await locker(['user', 'add', 'mai', '--role', 'admin', '--password-stdin', '--init'], { cwd, input: 'a long password\n' });
    expect(init.code, init.err).toBe(0);
    expect(init.out).toContain(`new locker database created in ${join(cwd, 'data')}`);
    // The contract's form, without --init, works on the database that exists now.
    const again = await locker(['user', 'add', 'hoa', '--role', 'staff', '--password-stdin'], { cwd, input: 'another long one\n' });
    expect(again.code, again.err).toBe(0);
    expect(again.out).not.toContain('created');
  });

  it('add works without --init on the database of a running service', async () => {
    const tl = await running();
    const r = await locker(['user', 'add', 'lan', '--role', 'staff', '--password-stdin'], { dataDir: tl.dataDir, input: 'lan has a long password\n' });
    expect(r.code, r.err).toBe(0);
    expect((await login(tl, 'lan', 'lan has a long password')).status).toBe(200);
  });
});

describe('locker user list', () => {
  it('shows each account with its role and state (active, disabled, blocked until ...) and never a hash', async () => {
    const tl = await running();
    await tl.locker.ctx.auth.addUser('mai', 'admin', 'mai has a long password');
    await tl.locker.ctx.auth.addUser('lan', 'staff', 'lan has a long password');
    await tl.locker.ctx.auth.addUser('hoa', 'auditor', 'hoa has a long password');
    tl.locker.ctx.auth.disable('lan');
    for (let i = 0; i < 5; i++) await login(tl, 'hoa', `wrong-${i}-password`);
    const r = await locker(['user', 'list'], { dataDir: tl.dataDir });
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^hoa\s+auditor\s+blocked until \d{4}-\d\d-\d\dT/);
    expect(lines[1]).toMatch(/^lan\s+staff\s+disabled since \d{4}-/);
    expect(lines[2]).toMatch(/^mai\s+admin\s+active$/);
    expect(r.out).not.toMatch(/scrypt|\$/);
  });
});

describe('locker user passwd', () => {
  it('sets the password read from standard input, ends the sessions of the account, and audits it without the password', async () => {
    const tl = await running();
    await tl.locker.ctx.auth.addUser('lan', 'staff', 'the old long password');
    const token = (await login(tl, 'lan', 'the old long password')).body.token;
    const r = await locker(['user', 'passwd', 'lan', '--password-stdin'], { dataDir: tl.dataDir, input: 'the new long password\n' });
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('the new long password');
    expect((await tl.api('GET', '/api/v1/compartments', undefined, token)).status).toBe(401);
    expect((await login(tl, 'lan', 'the old long password')).status).toBe(401);
    expect((await login(tl, 'lan', 'the new long password')).status).toBe(200);
    expect(events(tl, 'user.password_changed')).toEqual([{ actor: 'system', data: '{"username":"lan"}' }]);
    const all = JSON.stringify(tl.locker.ctx.store.db.prepare('SELECT * FROM audit_events').all());
    expect(all).not.toContain('long password');

    expect((await locker(['user', 'passwd', 'lan', '--password-stdin'], { dataDir: tl.dataDir, input: 'short' })).err).toMatch(/at least 8/);
    expect((await locker(['user', 'passwd', 'nobody', '--password-stdin'], { dataDir: tl.dataDir, input: 'a long password' })).err).toMatch(/No user nobody/);
    expect((await locker(['user', 'passwd', 'lan'], { dataDir: tl.dataDir, input: 'a long password' })).err).toMatch(/--password-stdin/);
  });
});

describe('locker user disable and enable', () => {
  it('disable refuses the login and stops the tokens the user already has at once; enable lets them back in', async () => {
    const tl = await running();
    await tl.locker.ctx.auth.addUser('lan', 'staff', 'lan has a long password');
    const token = (await login(tl, 'lan', 'lan has a long password')).body.token;
    expect((await tl.api('GET', '/api/v1/compartments', undefined, token)).status).toBe(200);

    const off = await locker(['user', 'disable', 'lan'], { dataDir: tl.dataDir });
    expect(off.code, off.err).toBe(0);
    expect(off.out).toMatch(/lan disabled/);
    expect((await tl.api('GET', '/api/v1/compartments', undefined, token)).status).toBe(401);
    const refused = await login(tl, 'lan', 'lan has a long password');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('account_disabled');
    // Someone without the password learns nothing about the account.
    expect((await login(tl, 'lan', 'not the password')).body.error).toBe('invalid_credentials');
    expect((await locker(['user', 'disable', 'lan'], { dataDir: tl.dataDir })).out).toMatch(/already disabled/);

    const on = await locker(['user', 'enable', 'lan'], { dataDir: tl.dataDir });
    expect(on.code, on.err).toBe(0);
    expect((await tl.api('GET', '/api/v1/compartments', undefined, token)).status).toBe(401);
    expect((await login(tl, 'lan', 'lan has a long password')).status).toBe(200);
    expect(events(tl, 'user.disabled')).toEqual([{ actor: 'system', data: '{"username":"lan"}' }]);
    expect(events(tl, 'user.enabled')).toEqual([{ actor: 'system', data: '{"username":"lan"}' }]);
    expect((await locker(['user', 'enable', 'nobody'], { dataDir: tl.dataDir })).err).toMatch(/No user nobody/);
  });
});

describe('locker user unlock', () => {
  it('lifts the block after failed logins on the name and leaves blocks on addresses, saying so', async () => {
    const tl = await running();
    await tl.locker.ctx.auth.addUser('lan', 'staff', 'lan has a long password');
    for (let i = 0; i < 5; i++) await login(tl, 'lan', `wrong-${i}-password`);
    expect((await login(tl, 'lan', 'lan has a long password')).status).toBe(429);
    const db = tl.locker.ctx.store.db;
    db.prepare('INSERT INTO login_failures (key, count, first_at, blocked_until) VALUES (?, 20, ?, ?)').run('ip:192.0.2.7', tl.clock.now(), tl.clock.now() + 600_000);

    const r = await locker(['user', 'unlock', 'lan'], { dataDir: tl.dataDir });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/lan unlocked/);
    expect(r.out).toMatch(/addresses are left in place \(1 address/);
    expect((await login(tl, 'lan', 'lan has a long password')).status).toBe(200);
    expect(db.prepare("SELECT key FROM login_failures WHERE key LIKE 'ip:%' AND blocked_until > 0").all()).toEqual([{ key: 'ip:192.0.2.7' }]);
    expect(events(tl, 'user.unlocked')).toEqual([{ actor: 'system', data: '{"username":"lan","wasBlocked":true}' }]);
    expect((await locker(['user', 'unlock', 'lan'], { dataDir: tl.dataDir })).out).toMatch(/was not blocked/);
  });
});
