// A fingerprint of everything the locker keeps, minus the bookkeeping a failed attempt is meant to
// leave behind (failure counters, throttles, the audit rows of those failures). Two equal
// fingerprints mean a request changed nothing that matters.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

type Db = Database.Database;

/**
 * Tables (or columns) whose changes are the accounting of a failed attempt. The trail's anchor moves
 * whenever the broker acknowledges earlier events, whatever the request was: delivery, not a change.
 */
const ACCOUNTING_TABLES = new Set(['audit_events', 'outbox', 'audit_anchor', 'kiosk_throttle', 'login_failures', 'mqtt_transactions']);
const ACCOUNTING_COLUMNS: Record<string, string[]> = { dossiers: ['failures', 'updated_at'] };

export const ACCOUNTING_EVENTS = new Set(['pickup.failed', 'pickup.throttled', 'login.failed']);

export function fingerprint(db: Db, extraIgnored: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
  for (const { name } of tables) {
    if (ACCOUNTING_TABLES.has(name) || extraIgnored.includes(name)) continue;
    const skip = new Set(ACCOUNTING_COLUMNS[name] ?? []);
    const h = createHash('sha256');
    for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).iterate() as Iterable<Record<string, unknown>>) {
      for (const [k, v] of Object.entries(row)) if (!skip.has(k)) h.update(`${k}=${String(v)}\u0001`);
      h.update('\u0002');
    }
    out[name] = h.digest('hex').slice(0, 16);
  }
  return out;
}

/** Names of the tables whose fingerprint differs. */
export function changedTables(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

export function eventTypesAfter(db: Db, seq: number): string[] {
  return (db.prepare('SELECT type FROM audit_events WHERE seq > ? ORDER BY seq').all(seq) as { type: string }[]).map((r) => r.type);
}
