// 3. Audit append: a dossier state change + its audit event (hash chained) + outbox row per transaction
// through the domain, against bare better-sqlite3 inserts of the same rows in the same mode
// (WAL, synchronous=FULL), same disk.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { GENESIS_HASH } from '../../server/domain/audit-event.ts';
import { startLocker, tempDir } from '../helpers/locker.ts';
import { round, type BenchResult } from './stats.ts';

export async function auditAppend(n = 2000): Promise<BenchResult> {
  const t = await startLocker();
  const { store, audit } = t.locker.ctx;
  const db = store.db;
  db.prepare(
    `INSERT INTO dossiers (code, phone, size, compartment, status, created_by, created_at, updated_at, otp_nonce) VALUES ('B-1', '0912345678', 'S', 1, 'ready', 'x', 0, 0, 'n')`,
  ).run();
  const update = db.prepare('UPDATE dossiers SET failures = failures + 1, updated_at = ? WHERE id = 1');
  let start = performance.now();
  for (let i = 0; i < n; i++) {
    store.tx(() => {
      update.run(i);
      audit.append({ type: 'pickup.failed', actor: 'citizen', compartment: 1, dossier: 'B-1', data: { reason: 'wrong_code', consecutive: i } });
    });
  }
  const oursMs = performance.now() - start;
  await t.stop();

  const bare = new Database(join(tempDir('bench-bare-'), 'bare.db'));
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = FULL');
  bare.exec(`CREATE TABLE d (id INTEGER PRIMARY KEY, failures INTEGER, updated_at INTEGER);
    CREATE TABLE e (seq INTEGER PRIMARY KEY, id TEXT, at TEXT, type TEXT, actor TEXT, compartment INTEGER, dossier TEXT, data TEXT, prev_hash TEXT, hash TEXT);
    CREATE TABLE o (seq INTEGER PRIMARY KEY); INSERT INTO d VALUES (1, 0, 0);`);
  const u = bare.prepare('UPDATE d SET failures = failures + 1, updated_at = ? WHERE id = 1');
  const e = bare.prepare('INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const o = bare.prepare('INSERT INTO o VALUES (?)');
  const tx = bare.transaction((i: number) => {
    u.run(i);
    e.run(i + 1, `id-${i}`, new Date().toISOString(), 'pickup.failed', 'citizen', 1, 'B-1', '{"reason":"wrong_code"}', GENESIS_HASH, GENESIS_HASH);
    o.run(i + 1);
  });
  start = performance.now();
  for (let i = 0; i < n; i++) tx.immediate(i);
  const bareMs = performance.now() - start;
  bare.close();
  const ratio = bareMs / oursMs;
  return {
    name: 'audit append',
    figures: {
      transactions: n,
      'locker tx/s': round((n / oursMs) * 1000, 0),
      'bare inserts tx/s': round((n / bareMs) * 1000, 0),
      ratio: round(ratio, 2),
    },
    target: 'ratio >= 0.5',
    met: ratio >= 0.5,
    limit: 'one fsync per transaction (synchronous=FULL), the same for both; ours adds a head read, JCS + SHA-256',
  };
}
