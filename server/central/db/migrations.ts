// Versioned schema of the central database, one text for both engines. `{{id}}` is an
// auto-numbered key and `{{int8}}` a 64-bit integer (epoch milliseconds). Append new
// migrations; never edit one that has shipped.
import type { CentralDb, Dialect } from './sql.ts';

export const CENTRAL_MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('auditor','admin')),
  password_hash TEXT NOT NULL,
  created_at {{int8}} NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  role TEXT NOT NULL,
  created_at {{int8}} NOT NULL,
  expires_at {{int8}} NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  first_at {{int8}} NOT NULL,
  blocked_until {{int8}} NOT NULL DEFAULT 0
);
-- One row per locker ever heard of. Counters are kept with every stored event, so the list of
-- lockers needs no scan of the events.
CREATE TABLE lockers (
  id TEXT PRIMARY KEY,
  availability TEXT,
  since {{int8}},
  first_seen {{int8}} NOT NULL,
  last_seen {{int8}} NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  max_seq INTEGER NOT NULL DEFAULT 0,
  broken INTEGER NOT NULL DEFAULT 0,
  conflicts INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  gap_since {{int8}},
  state_seq INTEGER NOT NULL DEFAULT 0,
  state_at TEXT,
  state TEXT,
  state_received_at {{int8}},
  free INTEGER NOT NULL DEFAULT 0,
  loading INTEGER NOT NULL DEFAULT 0,
  occupied INTEGER NOT NULL DEFAULT 0,
  fault INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0
);
-- Every event as the locker published it. body is the canonical JSON (RFC 8785) of the event
-- without its locker field, so the chain can be verified again from what is stored.
-- hash_ok: the event's own hash matches; link_ok: its prevHash is the hash of seq-1 (NULL while
-- seq-1 is missing).
CREATE TABLE events (
  n {{id}},
  id TEXT NOT NULL UNIQUE,
  locker TEXT NOT NULL REFERENCES lockers(id),
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  at_ms {{int8}} NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  compartment INTEGER,
  dossier TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  hash_ok INTEGER NOT NULL,
  link_ok INTEGER,
  received_at {{int8}} NOT NULL,
  UNIQUE (locker, seq)
);
CREATE INDEX events_type_time ON events(type, at_ms, n);
CREATE INDEX events_dossier ON events(dossier, at_ms);
CREATE INDEX events_locker_time ON events(locker, type, at_ms);
-- A copy that clashed with a stored event (same id or same locker and seq, other content):
-- kept as evidence, never replacing what was stored first.
CREATE TABLE event_conflicts (
  n {{id}},
  locker TEXT NOT NULL,
  seq INTEGER,
  id TEXT,
  body TEXT NOT NULL,
  reason TEXT NOT NULL,
  received_at {{int8}} NOT NULL
);
CREATE INDEX event_conflicts_locker ON event_conflicts(locker, seq);
-- kind: gap, broken, conflict, malformed. seq is 0 for an alarm about the whole locker.
CREATE TABLE alarms (
  id {{id}},
  locker TEXT NOT NULL,
  kind TEXT NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL,
  occurrences INTEGER NOT NULL DEFAULT 1,
  opened_at {{int8}} NOT NULL,
  last_at {{int8}} NOT NULL,
  closed_at {{int8}},
  closed_by TEXT,
  note TEXT
);
CREATE UNIQUE INDEX alarms_open ON alarms(locker, kind, seq) WHERE closed_at IS NULL;
CREATE INDEX alarms_locker ON alarms(locker, closed_at);
-- Where each dossier stands, from its events (the latest seq wins, whatever the arrival order).
CREATE TABLE dossiers (
  locker TEXT NOT NULL,
  code TEXT NOT NULL,
  status TEXT NOT NULL,
  compartment INTEGER,
  last_seq INTEGER NOT NULL,
  expires_at_ms {{int8}},
  updated_at TEXT NOT NULL,
  PRIMARY KEY (locker, code)
);
CREATE INDEX dossiers_status ON dossiers(locker, status, expires_at_ms);
-- Commands sent to lockers, who sent them and what the locker answered.
CREATE TABLE commands (
  txn TEXT PRIMARY KEY,
  locker TEXT NOT NULL,
  command TEXT NOT NULL,
  payload TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at {{int8}} NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent','ok','error')),
  response TEXT,
  answered_at {{int8}}
);
CREATE INDEX commands_locker ON commands(locker, requested_at);
`,
  },
  {
    // When the central service last asked this locker to publish its missing events again
    // (events/republish); one instance claims the request, so a cluster asks once.
    version: 2,
    sql: `
ALTER TABLE lockers ADD COLUMN republish_at {{int8}};
`,
  },
];

export function dialectSql(sql: string, dialect: Dialect): string {
  return sql
    .replaceAll('{{id}}', dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY')
    .replaceAll('{{int8}}', dialect === 'sqlite' ? 'INTEGER' : 'BIGINT');
}

/** Splits a migration into statements (none of ours holds a ";" inside a literal). */
function statements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

/** Applies what is missing, each version in one transaction; safe with several instances starting at once. */
export async function migrateCentral(db: CentralDb): Promise<number> {
  await db.run(`CREATE TABLE IF NOT EXISTS central_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`).catch((err) => {
    // PostgreSQL: two instances racing on CREATE TABLE IF NOT EXISTS; the loser's catalog insert
    // clashes, and the table is there now.
    if (!['23505', '42P07'].includes((err as { code?: string }).code ?? '')) throw err;
  });
  let applied = 0;
  for (const m of CENTRAL_MIGRATIONS) {
    const done = await db.tx(async (q) => {
      if (db.dialect === 'postgres') await q.run(`SELECT pg_advisory_xact_lock(7365213)`);
      const have = await q.get<{ version: number }>('SELECT version FROM central_migrations WHERE version = :v', { v: m.version });
      if (have) return false;
      for (const s of statements(dialectSql(m.sql, db.dialect))) await q.run(s);
      await q.run('INSERT INTO central_migrations (version, applied_at) VALUES (:v, :at)', { v: m.version, at: new Date().toISOString() });
      return true;
    });
    if (done) applied++;
  }
  return applied;
}

export const LATEST_VERSION = CENTRAL_MIGRATIONS[CENTRAL_MIGRATIONS.length - 1].version;
