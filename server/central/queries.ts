// What the auditors' API reads: lockers, pickups, alarms, a locker's stored trail. Read-only.
import type { Sql } from './db/sql.ts';

export interface LockerSummary {
  id: string;
  online: boolean;
  availability: 'online' | 'offline' | null;
  since: string | null;
  compartments: { free: number; occupied: number; fault: number; loading: number; disabled: number };
  alarms: number;
  events: number;
  verified: boolean;
  latestSeq: number;
  overdue: number;
  lastSeen: string;
  stateAt: string | null;
}

interface LockerRow {
  id: string;
  availability: 'online' | 'offline' | null;
  since: number | null;
  last_seen: number;
  events: number;
  max_seq: number;
  broken: number;
  conflicts: number;
  state_seq: number;
  state_at: string | null;
  free: number;
  loading: number;
  occupied: number;
  fault: number;
  disabled: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Overdue: collection time passed (expired at the locker, or ready past its expiry). */
const OVERDUE = `(status = 'expired' OR (status = 'ready' AND expires_at_ms IS NOT NULL AND expires_at_ms < :now))`;

export async function listLockers(q: Sql, now: number, only?: string): Promise<LockerSummary[]> {
  const where = only === undefined ? '' : 'WHERE id = :only';
  const params: Record<string, string> = only === undefined ? {} : { only };
  const rows = await q.all<LockerRow>(`SELECT * FROM lockers ${where} ORDER BY id`, params);
  const alarms = new Map(
    (await q.all<{ locker: string; n: number }>(`SELECT locker, COUNT(*) AS n FROM alarms WHERE closed_at IS NULL ${only === undefined ? '' : 'AND locker = :only'} GROUP BY locker`, params)).map((r) => [r.locker, Number(r.n)]),
  );
  const overdue = new Map(
    (await q.all<{ locker: string; n: number }>(`SELECT locker, COUNT(*) AS n FROM dossiers WHERE ${OVERDUE} ${only === undefined ? '' : 'AND locker = :only'} GROUP BY locker`, { ...params, now })).map((r) => [
      r.locker,
      Number(r.n),
    ]),
  );
  return rows.map((r) => {
    const latestSeq = Math.max(r.max_seq, r.state_seq);
    return {
      id: r.id,
      online: r.availability === 'online',
      availability: r.availability,
      since: iso(r.since),
      compartments: { free: r.free, occupied: r.occupied + r.loading, fault: r.fault, loading: r.loading, disabled: r.disabled },
      alarms: alarms.get(r.id) ?? 0,
      events: r.events,
      // Kept up to date on arrival; GET /api/v1/lockers/{id}/verify recomputes it from the stored bodies.
      verified: r.events === latestSeq && r.broken === 0 && r.conflicts === 0,
      latestSeq,
      overdue: overdue.get(r.id) ?? 0,
      lastSeen: iso(r.last_seen)!,
      stateAt: r.state_at,
    };
  });
}

export async function lockerState(q: Sql, id: string): Promise<unknown | null> {
  const r = await q.get<{ state: string | null }>('SELECT state FROM lockers WHERE id = :id', { id });
  return r?.state ? JSON.parse(r.state) : null;
}

export async function overdueDossiers(q: Sql, locker: string, now: number) {
  const rows = await q.all<{ code: string; status: string; compartment: number | null; expires_at_ms: number | null }>(
    `SELECT code, status, compartment, expires_at_ms FROM dossiers WHERE locker = :locker AND ${OVERDUE} ORDER BY expires_at_ms, code LIMIT 1000`,
    { locker, now },
  );
  return rows.map((r) => ({ dossier: r.code, status: r.status, compartment: r.compartment, expiresAt: iso(r.expires_at_ms) }));
}

export interface PickupFilter {
  dossier?: string;
  locker?: string;
  fromMs?: number;
  toMs?: number;
}

export interface Pickup {
  locker: string;
  dossier: string | null;
  compartment: number | null;
  at: string;
  eventId: string;
  seq: number;
  verified: boolean;
}

/** Cursor of the pickup list: the position of the last row returned ("<at ms>-<n>"). */
export function encodeCursor(atMs: number, n: number): string {
  return `${atMs}-${n}`;
}

export function decodeCursor(s: string): { atMs: number; n: number } | null {
  if (s === '0') return { atMs: -1, n: 0 };
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(s);
  return m ? { atMs: Number(m[1]), n: Number(m[2]) } : null;
}

/**
 * A pickup whose door never opened is undone at the locker (`pickup.reverted`): the pickup it undoes is
 * the latest `pickup.succeeded` of that dossier at that locker before it, so it is not a pickup at all.
 */
const NOT_REVERTED = `NOT EXISTS (
  SELECT 1 FROM events r WHERE r.locker = p.locker AND r.dossier = p.dossier AND r.type = 'pickup.reverted' AND r.seq > p.seq
    AND NOT EXISTS (SELECT 1 FROM events s WHERE s.locker = p.locker AND s.dossier = p.dossier AND s.type = 'pickup.succeeded' AND s.seq > p.seq AND s.seq < r.seq))`;

export async function listPickups(q: Sql, f: PickupFilter, after: { atMs: number; n: number } | null, limit: number): Promise<{ pickups: Pickup[]; next: string | null }> {
  const where = [`type = 'pickup.succeeded'`, NOT_REVERTED];
  const params: Record<string, string | number> = { limit: limit + 1 };
  if (f.dossier !== undefined) {
    where.push('dossier = :dossier');
    params.dossier = f.dossier;
  }
  if (f.locker !== undefined) {
    where.push('locker = :locker');
    params.locker = f.locker;
  }
  if (f.fromMs !== undefined) {
    where.push('at_ms >= :fromMs');
    params.fromMs = f.fromMs;
  }
  if (f.toMs !== undefined) {
    where.push('at_ms <= :toMs');
    params.toMs = f.toMs;
  }
  if (after) {
    where.push('(at_ms > :afterAt OR (at_ms = :afterAt AND n > :afterN))');
    params.afterAt = after.atMs;
    params.afterN = after.n;
  }
  const rows = await q.all<{ n: number; locker: string; dossier: string | null; compartment: number | null; at: string; at_ms: number; id: string; seq: number; hash_ok: number; link_ok: number | null }>(
    `SELECT n, locker, dossier, compartment, at, at_ms, id, seq, hash_ok, link_ok FROM events p WHERE ${where.join(' AND ')} ORDER BY at_ms, n LIMIT :limit`,
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    pickups: page.map((r) => ({
      locker: r.locker,
      dossier: r.dossier,
      compartment: r.compartment,
      at: r.at,
      eventId: r.id,
      seq: r.seq,
      verified: r.hash_ok === 1 && r.link_ok === 1,
    })),
    next: more && last ? encodeCursor(last.at_ms, last.n) : null,
  };
}

export interface AlarmView {
  id: number;
  locker: string;
  kind: string;
  seq: number | null;
  detail: unknown;
  occurrences: number;
  openedAt: string;
  lastAt: string;
  open: boolean;
  closedAt: string | null;
  closedBy: string | null;
  note: string | null;
}

export async function listAlarms(q: Sql, f: { locker?: string; open?: boolean }, limit = 500): Promise<AlarmView[]> {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit };
  if (f.locker !== undefined) {
    where.push('locker = :locker');
    params.locker = f.locker;
  }
  if (f.open === true) where.push('closed_at IS NULL');
  if (f.open === false) where.push('closed_at IS NOT NULL');
  const rows = await q.all<{ id: number; locker: string; kind: string; seq: number; detail: string; occurrences: number; opened_at: number; last_at: number; closed_at: number | null; closed_by: string | null; note: string | null }>(
    `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT :limit`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    locker: r.locker,
    kind: r.kind,
    seq: r.seq === 0 ? null : r.seq,
    detail: JSON.parse(r.detail),
    occurrences: r.occurrences,
    openedAt: iso(r.opened_at)!,
    lastAt: iso(r.last_at)!,
    open: r.closed_at === null,
    closedAt: iso(r.closed_at),
    closedBy: r.closed_by,
    note: r.note,
  }));
}

/** A locker's stored trail in seq order, as the locker published it (without `locker`). */
export async function lockerEvents(q: Sql, locker: string, after: number, limit: number): Promise<{ events: unknown[]; next: number | null }> {
  const rows = await q.all<{ seq: number; body: string }>('SELECT seq, body FROM events WHERE locker = :locker AND seq > :after ORDER BY seq LIMIT :limit', {
    locker,
    after,
    limit: limit + 1,
  });
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  return { events: page.map((r) => JSON.parse(r.body)), next: more ? page[page.length - 1].seq : null };
}
