import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';

const BIN = join(import.meta.dirname, '../../server/bin/locker.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function locker(dataDir: string, args: string[], input = '') {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    env: { ...process.env, LOCKER_DATA_DIR: dataDir, LOCKER_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('locker user add', () => {
  it('creates a user whose password comes from standard input, and records it in the audit trail', () => {
    const dir = tempDir();
    dirs.push(dir);
    const r = locker(dir, ['user', 'add', 'mai', '--role', 'admin', '--password-stdin', '--init'], 'a long password\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('mai');
    expect(r.out).not.toContain('a long password');
    const db = new Database(join(dir, 'locker.db'), { readonly: true });
    const user = db.prepare('SELECT role, password_hash FROM users WHERE username = ?').get('mai') as { role: string; password_hash: string };
    expect(user.role).toBe('admin');
    expect(user.password_hash).toMatch(/^scrypt\$/);
    const ev = db.prepare('SELECT seq, type, actor, data FROM audit_events').all();
    expect(ev).toEqual([{ seq: 1, type: 'user.created', actor: 'system', data: '{"username":"mai","role":"admin"}' }]);
    db.close();
  });

  it('refuses a duplicate user, a bad role, a short password and a missing --password-stdin', () => {
    const dir = tempDir();
    dirs.push(dir);
    expect(locker(dir, ['user', 'add', 'mai', '--role', 'staff', '--password-stdin', '--init'], 'password-1').code).toBe(0);
    const dup = locker(dir, ['user', 'add', 'mai', '--role', 'staff', '--password-stdin'], 'password-2');
    expect(dup.code).not.toBe(0);
    expect(dup.err).toMatch(/already exists/);
    expect(locker(dir, ['user', 'add', 'hoa', '--role', 'root', '--password-stdin'], 'password-3').err).toMatch(/--role/);
    expect(locker(dir, ['user', 'add', 'hoa', '--role', 'staff', '--password-stdin'], 'short').err).toMatch(/at least 8/);
    expect(locker(dir, ['user', 'add', 'hoa', '--role', 'staff'], 'password-4').err).toMatch(/password-stdin/);
  });
});

describe('locker audit verify', () => {
  it('passes on an intact trail and fails, naming the event, once a row is altered', () => {
    const dir = tempDir();
    dirs.push(dir);
    for (const name of ['a1', 'a2', 'a3']) locker(dir, ['user', 'add', name, '--role', 'auditor', '--password-stdin', '--init'], 'password-123');
    const ok = locker(dir, ['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok: 3 events/);

    const db = new Database(join(dir, 'locker.db'));
    db.prepare(`UPDATE audit_events SET data = '{"username":"a2","role":"admin"}' WHERE seq = 2`).run();
    db.close();
    const broken = locker(dir, ['audit', 'verify']);
    expect(broken.code).not.toBe(0);
    expect(broken.err).toMatch(/BROKEN at seq 2/);
  });

  it('detects a deleted event', () => {
    const dir = tempDir();
    dirs.push(dir);
    for (const name of ['a1', 'a2', 'a3']) locker(dir, ['user', 'add', name, '--role', 'auditor', '--password-stdin', '--init'], 'password-123');
    const db = new Database(join(dir, 'locker.db'));
    db.prepare('DELETE FROM outbox WHERE seq = 2').run();
    db.prepare('DELETE FROM audit_events WHERE seq = 2').run();
    db.close();
    const broken = locker(dir, ['audit', 'verify']);
    expect(broken.code).not.toBe(0);
    expect(broken.err).toMatch(/seq 3/);
  });
});
