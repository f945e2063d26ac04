// `locker backup <file>`: an online copy of the live database, and the README's restore.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase } from '../../server/cli/backup.ts';
import { fastMap, loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';

const BIN = join(import.meta.dirname, '../../server/bin/locker.mjs');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(): string {
  const d = tempDir('locker-backup-');
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function running(dataDir?: string): Promise<TestLocker> {
  const t = await startLocker(dataDir ? { dataDir } : {});
  cleanups.push(() => (t.locker.ctx.store.db.open ? t.stop() : undefined));
  return t;
}

function cli(dataDir: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, LOCKER_DATA_DIR: dataDir, LOCKER_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function eventCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM audit_events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('locker backup', () => {
  it('copies the live database while the locker keeps writing: one whole, self-contained, verified file', async () => {
    const t = await running();
    const staff = await t.login('staff');
    for (let i = 1; i <= 3; i++) await loadDossier(t, staff, `B-${i}`, `091234567${i}`);
    const before = t.locker.ctx.audit.latestSeq();
    const out = join(dir(), 'locker-backup.db');
    // The locker goes on loading dossiers while the copy is taken.
    const [r] = await Promise.all([backupDatabase(t.dataDir, out), (async () => {
      for (let i = 4; i <= 6; i++) await loadDossier(t, staff, `B-${i}`, `091234567${i}`);
    })()]);
    const after = t.locker.ctx.audit.latestSeq();

    expect(r.file).toBe(out);
    expect(r.chainOk).toBe(true);
    expect(r.events).toBeGreaterThanOrEqual(before);
    expect(r.events).toBeLessThanOrEqual(after);
    expect(eventCount(out)).toBe(r.events);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(existsSync(`${out}-wal`)).toBe(false);
    expect(existsSync(`${out}-shm`)).toBe(false);
    expect(r.secretsFile).toBeNull();
    const copy = new Database(out, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();
    // The live locker is untouched and still serves.
    expect((await t.api('GET', '/healthz')).status).toBe(200);
  });

  it('restores as the README says: the dossiers come back and a citizen\'s code still opens the door', async () => {
    const t = await running();
    const staff = await t.login('staff');
    const door = await loadDossier(t, staff, 'H29.12-251123-0001', '0912345678');
    const code = t.codeFor('0912345678');
    const out = join(dir(), 'nightly.db');
    const r = cli(t.dataDir, ['backup', out, '--with-secrets']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/backup written: .*nightly\.db \(\d+ bytes, \d+ audit events, chain ok, head [0-9a-f]{64}\)/);
    expect(r.out).toContain('nightly.db.secrets.json');
    expect(statSync(`${out}.secrets.json`).mode & 0o777).toBe(0o600);
    await t.stop();

    // The restore: a new data dir (a new SD card), the backup as locker.db, the secrets beside it.
    const fresh = dir();
    copyFileSync(out, join(fresh, 'locker.db'));
    copyFileSync(`${out}.secrets.json`, join(fresh, 'secrets.json'));
    fastMap(fresh);
    const back = await running(fresh);
    expect(back.locker.ctx.audit.verify().ok).toBe(true);
    const dossier = await back.api('GET', '/api/v1/dossiers/H29.12-251123-0001', undefined, await back.login('staff'));
    expect(dossier.body).toMatchObject({ compartment: door, status: 'ready' });
    const pickup = await back.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(pickup.status).toBe(200);
    expect(pickup.body).toEqual({ compartment: door, doorToken: expect.any(String) });
  });

  it('refuses to overwrite a file unless --force, and then replaces it', async () => {
    const t = await running();
    const out = join(dir(), 'x.db');
    writeFileSync(out, 'not a database');
    const refused = cli(t.dataDir, ['backup', out]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('exists; pass --force');
    const forced = cli(t.dataDir, ['backup', out, '--force']);
    expect(forced.code, forced.err).toBe(0);
    const db = new Database(out, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('refuses a missing database, a missing folder, the live database itself, and a missing file name', async () => {
    const empty = dir();
    expect(cli(empty, ['backup', join(empty, 'b.db')])).toMatchObject({ code: 1, err: expect.stringContaining('no database at') });
    const t = await running();
    expect(cli(t.dataDir, ['backup', join(t.dataDir, 'nowhere', 'b.db')])).toMatchObject({ code: 1, err: expect.stringContaining('does not exist') });
    const live = cli(t.dataDir, ['backup', join(t.dataDir, 'locker.db'), '--force']);
    expect(live).toMatchObject({ code: 1, err: expect.stringContaining('cannot overwrite the live database') });
    expect(cli(t.dataDir, ['backup'])).toMatchObject({ code: 1, err: expect.stringContaining('backup takes one file name') });
    // Nothing half-written was left behind.
    mkdirSync(join(t.dataDir, 'b'), { recursive: true });
    expect(cli(t.dataDir, ['backup', join(t.dataDir, 'b', 'ok.db')]).code).toBe(0);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(t.dataDir, 'b'))).toEqual(['ok.db']);
  });
});
