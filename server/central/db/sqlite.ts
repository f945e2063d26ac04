// SQLite adapter. better-sqlite3 is synchronous, but the service's code is written against an
// async interface (for PostgreSQL); an async mutex keeps one transaction's statements from
// interleaving with another task's.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ensureDataDir } from '../../db/database.ts';
import { toSqliteNamed, type CentralDb, type Params, type TxSql } from './sql.ts';

export function openSqlite(dataDir: string, file = 'central.db'): CentralDb {
  ensureDataDir(dataDir);
  const path = join(dataDir, file);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // An event is acknowledged to the broker once it is stored: the store must survive power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Several instances may share one file on one host (a test of the shared subscription does).
  db.pragma('busy_timeout = 10000');
  const cache = new Map<string, Database.Statement>();
  const prepare = (text: string) => {
    let s = cache.get(text);
    if (!s) {
      s = db.prepare(text);
      cache.set(text, s);
    }
    return s;
  };
  const q = {
    async all<T>(sql: string, params?: Params) {
      const { text, bind } = toSqliteNamed(sql, params);
      return prepare(text).all(bind) as T[];
    },
    async get<T>(sql: string, params?: Params) {
      const { text, bind } = toSqliteNamed(sql, params);
      return prepare(text).get(bind) as T | undefined;
    },
    async run(sql: string, params?: Params) {
      const { text, bind } = toSqliteNamed(sql, params);
      const s = prepare(text);
      if (!s.reader) return s.run(bind).changes;
      s.all(bind);
      return 0;
    },
  };
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const txSql: TxSql = { ...q, lockLocker: async () => {} };
  return {
    dialect: 'sqlite',
    describe: `sqlite ${path}`,
    all: (sql, params) => exclusive(() => q.all(sql, params)),
    get: (sql, params) => exclusive(() => q.get(sql, params)),
    run: (sql, params) => exclusive(() => q.run(sql, params)),
    tx<T>(fn: (t: TxSql) => Promise<T>) {
      return exclusive(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(txSql);
          db.exec('COMMIT');
          return r;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      });
    },
    async close() {
      await exclusive(async () => db.close());
    },
  };
}
