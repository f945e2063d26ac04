// Versioned schema. Append new migrations; never edit one that has shipped.
export const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('staff','auditor','admin')),
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE dossiers (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  phone TEXT NOT NULL,
  size TEXT NOT NULL,
  compartment INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('loading','ready','picked_up','expired','withdrawn','cancelled')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ready_at INTEGER,
  expires_at INTEGER,
  closed_at INTEGER,
  otp_nonce TEXT NOT NULL,
  code_counter INTEGER NOT NULL DEFAULT 0,
  code_hash TEXT,
  code_fail_limit INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  resends INTEGER NOT NULL DEFAULT 0,
  last_code_at INTEGER,
  sms_status TEXT
);
CREATE UNIQUE INDEX dossiers_live_code ON dossiers(code) WHERE status IN ('loading','ready','expired');
CREATE INDEX dossiers_code ON dossiers(code);
CREATE INDEX dossiers_ready_phone ON dossiers(phone) WHERE status = 'ready';
CREATE INDEX dossiers_ready_expiry ON dossiers(expires_at) WHERE status = 'ready';
CREATE TABLE compartments (
  number INTEGER PRIMARY KEY,
  size TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  fault TEXT,
  door TEXT NOT NULL DEFAULT 'unknown',
  dossier_id INTEGER REFERENCES dossiers(id),
  unlocked_until INTEGER NOT NULL DEFAULT 0,
  unlocked_by TEXT,
  opened_since_unlock INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  compartment INTEGER,
  dossier TEXT,
  data TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY REFERENCES audit_events(seq)
);
CREATE TABLE sms_queue (
  id INTEGER PRIMARY KEY,
  dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
  kind TEXT NOT NULL,
  code_counter INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','sending','sent','failed','superseded')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX sms_queue_due ON sms_queue(next_attempt_at) WHERE status = 'queued';
CREATE TABLE kiosk_throttle (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  blocked_until INTEGER NOT NULL DEFAULT 0
);
INSERT INTO kiosk_throttle (id) VALUES (1);
`,
  },
  {
    // MQTT commands already answered, by transaction id: a repeated request gets the same answer
    // and is not applied twice, also across restarts.
    version: 2,
    sql: `
CREATE TABLE mqtt_transactions (
  txn TEXT PRIMARY KEY,
  command TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX mqtt_transactions_age ON mqtt_transactions(created_at);
`,
  },
  {
    // SMS delivery tracking. `handed` = given to the channel, outcome not known yet (a crash in this state
    // is not sent again); `delivered` = the network confirmed it. handed_at feeds the per-phone rate limit;
    // channel_refs holds the channel's references (modem TP-MR per part) awaiting a delivery report.
    // SQLite cannot change a CHECK in place, so the table is rebuilt.
    version: 3,
    sql: `
CREATE TABLE sms_queue_v3 (
  id INTEGER PRIMARY KEY,
  dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
  kind TEXT NOT NULL,
  code_counter INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','sending','handed','sent','delivered','failed','superseded')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  handed_at INTEGER,
  delivered_at INTEGER,
  channel TEXT,
  channel_refs TEXT
);
INSERT INTO sms_queue_v3 (id, dossier_id, kind, code_counter, status, attempts, next_attempt_at, last_error, created_at, sent_at, handed_at)
  SELECT id, dossier_id, kind, code_counter, status, attempts, next_attempt_at, last_error, created_at, sent_at, sent_at FROM sms_queue;
DROP TABLE sms_queue;
ALTER TABLE sms_queue_v3 RENAME TO sms_queue;
CREATE INDEX sms_queue_due ON sms_queue(next_attempt_at) WHERE status = 'queued';
CREATE INDEX sms_queue_dossier ON sms_queue(dossier_id, kind);
CREATE INDEX sms_queue_handed ON sms_queue(handed_at) WHERE handed_at IS NOT NULL;
CREATE INDEX sms_queue_awaiting ON sms_queue(sent_at) WHERE channel_refs IS NOT NULL;
`,
  },
  {
    // The ordinary day. Dossier codes are one dossier whatever their case (lookups use NOCASE);
    // `door_opened_at` says the door of a collected or withdrawn dossier really opened (receipts and
    // the pickup's undo depend on it); `loading_alarmed_at` keeps the "left in loading" alarm to one.
    // The live-code index stays unique as it was; uniqueness across case is checked inside the
    // registering transaction, since an existing database may already hold codes differing in case.
    version: 4,
    sql: `
ALTER TABLE dossiers ADD COLUMN door_opened_at INTEGER;
ALTER TABLE dossiers ADD COLUMN loading_alarmed_at INTEGER;
CREATE INDEX dossiers_code_nocase ON dossiers(code COLLATE NOCASE);
CREATE INDEX dossiers_loading ON dossiers(created_at) WHERE status = 'loading';
`,
  },
  {
    // Accounts can be switched off without deleting them (their audit trail and name stay);
    // NULL = active.
    version: 5,
    sql: `ALTER TABLE users ADD COLUMN disabled_at INTEGER;`,
  },
  {
    // Alarm acknowledgements, one per alarm (the alarm's audit seq): every console sees an alarm as
    // handled once anyone has acknowledged it. The audit event `alarm.acknowledged` is the record;
    // this table is its index, so listing open alarms needs no scan of the trail's JSON.
    version: 6,
    sql: `
CREATE TABLE alarm_acks (
  alarm_seq INTEGER PRIMARY KEY,
  ack_seq INTEGER NOT NULL,
  acked_by TEXT NOT NULL,
  acked_at INTEGER NOT NULL,
  note TEXT
);
`,
  },
  {
    // The newest audit event the broker has acknowledged with every earlier one: a trail shorter than
    // this, or with another hash at this seq, was cut or rewritten after it left the locker.
    version: 7,
    sql: `
CREATE TABLE audit_anchor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL DEFAULT 0,
  hash TEXT,
  at INTEGER
);
INSERT INTO audit_anchor (id) VALUES (1);
`,
  },
  {
    // Who confirmed a dossier loaded: the clerk's actor, or 'door_closed' when its door's closing
    // did (auto-confirm). A clerk's later confirm of such a dossier is answered without a second SMS.
    version: 8,
    sql: `ALTER TABLE dossiers ADD COLUMN confirmed_by TEXT;`,
  },
  {
    // The auditor's filters (type, door, time range) read the trail through these, newest first,
    // instead of scanning every event.
    version: 9,
    sql: `
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events(type, seq);
CREATE INDEX IF NOT EXISTS audit_events_compartment ON audit_events(compartment, seq) WHERE compartment IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at);
`,
  },
];
