// The WAL is copied back into the database file by a thread of its own, never by a commit on the
// service's connection; if that thread dies, commits checkpoint again as SQLite does by default.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../server/db/checkpointer.ts';
import { openDatabase, type Db } from '../../server/db/database.ts';
import type { Scheduler } from '../../server/domain/ports.ts';
import { tempDir } from '../helpers/locker.ts';

/** A scheduler whose periodic jobs run only when the test says so. */
function manualScheduler() {
  const jobs = new Set<() => void>();
  const scheduler: Scheduler = {
    every: (_ms, fn) => {
      jobs.add(fn);
      return () => jobs.delete(fn);
    },
    after: (_ms, fn) => {
      jobs.add(fn);
      return () => jobs.delete(fn);
    },
  };
  return { scheduler, runAll: () => [...jobs].forEach((j) => j()), count: () => jobs.size };
}

let db: Db | null = null;
let cp: WalCheckpointer | null = null;
afterEach(async () => {
  await cp?.stop();
  db?.close();
  cp = null;
  db = null;
});

const log = pino({ level: 'silent' });
const walFrames = (d: Db) => (d.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0].log;

function writeMany(d: Db, n: number) {
  d.exec('CREATE TABLE IF NOT EXISTS filler (x TEXT)');
  const ins = d.prepare('INSERT INTO filler VALUES (?)');
  for (let i = 0; i < n; i++) ins.run('x'.repeat(3000));
}

describe('WAL checkpointer', () => {
  it('leaves the copying to its thread: 3,000 pages of commits do not checkpoint on the service connection', async () => {
    const dir = tempDir();
    db = openDatabase(dir);
    cp = new WalCheckpointer(db, manualScheduler().scheduler, log);
    cp.start();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    writeMany(db, 3000);
    // With SQLite's automatic checkpoint the WAL would have been reset after 1000 pages.
    expect(statSync(join(dir, 'locker.db-wal')).size).toBeGreaterThan(3000 * 4096);
    const r = await cp.checkpoint();
    expect(r).not.toBeNull();
    expect(r!.log).toBeGreaterThan(3000);
    expect(r!.checkpointed).toBe(r!.log);
    // Everything is in the database file: a second connection that only reads it sees the rows.
    expect(statSync(join(dir, 'locker.db')).size).toBeGreaterThan(3000 * 3000);
  });

  it('copies what was written since on its next timer pass', async () => {
    db = openDatabase(tempDir());
    const m = manualScheduler();
    cp = new WalCheckpointer(db, m.scheduler, log);
    cp.start();
    writeMany(db, 10);
    const first = cp.checkpoint();
    m.runAll(); // a tick while busy: noted, not sent twice
    expect((await first)!.checkpointed).toBeGreaterThan(0);
    m.runAll();
    await new Promise((r) => setTimeout(r, 50));
    writeMany(db, 5);
    m.runAll();
    await new Promise((r) => setTimeout(r, 100));
    // The timer's pass ran: nothing is left in the WAL that is not also in the file.
    const after = (db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[])[0];
    expect(after.checkpointed).toBe(after.log);
  });

  it('hands checkpointing back to SQLite when its thread dies', async () => {
    db = openDatabase(tempDir());
    const m = manualScheduler();
    cp = new WalCheckpointer(db, m.scheduler, log);
    cp.start();
    expect(cp.active).toBe(true);
    await (cp as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(cp.active).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(m.count()).toBe(0);
    expect(await cp.checkpoint()).toBeNull();
  });

  it('gives the connection its automatic checkpoint back on stop, and the database closes cleanly', async () => {
    const dir = tempDir();
    db = openDatabase(dir);
    cp = new WalCheckpointer(db, manualScheduler().scheduler, log);
    cp.start();
    writeMany(db, 50);
    await cp.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(walFrames(db)).toBeGreaterThan(0);
    db.close();
    db = null;
    // SQLite checkpoints and removes the WAL when the last connection closes.
    expect(existsSync(join(dir, 'locker.db-wal'))).toBe(false);
  });
});
