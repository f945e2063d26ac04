import Database from 'better-sqlite3';
import { mkdirSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch {
    // A data dir we do not own (e.g. a mounted volume) keeps its mode; the secrets file is 0600 anyway.
  }
}

export const DB_FILE = 'locker.db';

/** Whether the data dir holds a locker database already (the service makes one on its first start). */
export function databaseExists(dataDir: string, file = DB_FILE): boolean {
  return existsSync(join(dataDir, file));
}

export function openDatabase(dataDir: string, file = DB_FILE): Db {
  ensureDataDir(dataDir);
  const db = new Database(join(dataDir, file));
  db.pragma('journal_mode = WAL');
  // WAL with synchronous=NORMAL can lose a committed transaction on power loss; a locker cannot.
  db.pragma('synchronous = FULL');
  // Erased personal data (retention, an index entry that goes with a status change) must not linger
  // in free pages of the file.
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
