// Turns what the lockers publish into stored facts. Each message is handled in one transaction
// and the caller acknowledges it to the broker only after that transaction committed, so an
// event is never lost between the broker and the database; a redelivered copy is recognised by
// its id (and by locker and seq) and counted as a duplicate.
//
// Every event is checked on arrival: its own hash (server/domain/audit-event.ts), and its link
// to seq-1 and seq+1 whichever arrives first. A broken link or hash, or a second, different copy
// of a stored event, opens an alarm at once. A missing seq opens a `gap` alarm only after it has
// stayed missing for the grace period, because QoS 1 redelivery and several instances sharing
// the load may reorder events for a moment; the alarm closes itself when the events arrive.
import type { Logger } from 'pino';
import { GENESIS_HASH, hashEvent } from '../domain/audit-event.ts';
import { canonicalJson } from '../domain/jcs.ts';
import type { Clock } from '../domain/ports.ts';
import type { CentralDb, Sql, TxSql } from './db/sql.ts';
import { parseAvailability, parseEvent, parseState, type LockerStateBody } from './event-schema.ts';
import { ALARM_ACK_TYPE, ALARM_TYPES } from '../web/lib/alarm-types.js';

export type IngestResult = 'stored' | 'duplicate' | 'conflict' | 'malformed';

export interface IngestStats {
  stored: number;
  duplicates: number;
  conflicts: number;
  malformed: number;
}

/** The central service's own alarms about a trail; a locker's alarms keep their event type as kind. */
export type AlarmKind = 'gap' | 'broken' | 'conflict' | 'malformed';
const TRAIL_ALARMS: readonly string[] = ['gap', 'broken', 'conflict', 'malformed'];

export interface IngestOptions {
  gapGraceMs: number;
}

/** Events whose `data.expiresAt` is the dossier's (new) deadline. */
const SETS_EXPIRY = new Set(['dossier.ready', 'dossier.extended', 'dossier.revived']);

/** Dossier events and the status they leave the dossier in. */
const DOSSIER_STATUS: Record<string, string> = {
  'dossier.loading': 'loading',
  'dossier.ready': 'ready',
  'pickup.succeeded': 'picked_up',
  // The door never opened: the paper is still inside and the same code works again.
  'pickup.reverted': 'ready',
  // Staff moved the deadline, or gave an expired dossier a new one (and a new code).
  'dossier.extended': 'ready',
  'dossier.revived': 'ready',
  'dossier.expired': 'expired',
  'dossier.withdrawn': 'withdrawn',
  'dossier.cancelled': 'cancelled',
};

export async function ensureLocker(q: Sql, id: string, now: number): Promise<void> {
  await q.run('INSERT INTO lockers (id, first_seen, last_seen) VALUES (:id, :now, :now) ON CONFLICT (id) DO NOTHING', { id, now });
}

/** Opens an alarm, or counts one more occurrence of the same open alarm. Returns true when it is new. */
export async function openAlarm(q: Sql, locker: string, kind: AlarmKind | string, seq: number, detail: Record<string, unknown>, now: number): Promise<boolean> {
  const bumped = await q.run(
    `UPDATE alarms SET occurrences = occurrences + 1, last_at = :now, detail = :detail
     WHERE locker = :locker AND kind = :kind AND seq = :seq AND closed_at IS NULL`,
    { locker, kind, seq, now, detail: JSON.stringify(detail) },
  );
  if (bumped > 0) return false;
  await q.run(
    `INSERT INTO alarms (locker, kind, seq, detail, opened_at, last_at) VALUES (:locker, :kind, :seq, :detail, :now, :now)`,
    { locker, kind, seq, now, detail: JSON.stringify(detail) },
  );
  return true;
}

export class Ingestor {
  readonly stats: IngestStats = { stored: 0, duplicates: 0, conflicts: 0, malformed: 0 };

  constructor(
    private readonly db: CentralDb,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: IngestOptions,
  ) {}

  async event(locker: string, payload: Buffer): Promise<IngestResult> {
    const now = this.clock.now();
    const parsed = parseEvent(payload, locker);
    if (!parsed.ok) {
      await this.db.tx(async (q) => {
        await ensureLocker(q, locker, now);
        await q.run(
          `INSERT INTO event_conflicts (locker, seq, id, body, reason, received_at) VALUES (:locker, NULL, NULL, :body, :reason, :now)`,
          { locker, body: payload.subarray(0, 4096).toString('utf8'), reason: `malformed: ${parsed.reason}`, now },
        );
        await openAlarm(q, locker, 'malformed', 0, { reason: parsed.reason }, now);
      });
      this.stats.malformed++;
      this.log.warn({ locker, reason: parsed.reason }, 'malformed event: alarm raised');
      return 'malformed';
    }
    const e = parsed.value;
    const { locker: _ignored, ...withoutLocker } = e;
    const body = canonicalJson(withoutLocker);
    const hashOk = hashEvent(e) === e.hash;
    const atMs = Date.parse(e.at);

    const result = await this.db.tx(async (q): Promise<IngestResult> => {
      await ensureLocker(q, locker, now);
      await q.lockLocker(locker);
      const sameId = await q.get<{ locker: string; seq: number; body: string }>('SELECT locker, seq, body FROM events WHERE id = :id', { id: e.id });
      if (sameId && sameId.locker === locker && sameId.seq === e.seq && sameId.body === body) {
        await q.run('UPDATE lockers SET duplicates = duplicates + 1, last_seen = :now WHERE id = :locker', { locker, now });
        return 'duplicate';
      }
      const sameSeq = sameId ? undefined : await q.get<{ id: string }>('SELECT id FROM events WHERE locker = :locker AND seq = :seq', { locker, seq: e.seq });
      if (sameId || sameSeq) {
        const reason = sameId
          ? `event id ${e.id} is stored as ${sameId.locker} seq ${sameId.seq} with other content`
          : `seq ${e.seq} is stored as event ${sameSeq!.id}`;
        await q.run(
          `INSERT INTO event_conflicts (locker, seq, id, body, reason, received_at) VALUES (:locker, :seq, :id, :body, :reason, :now)`,
          { locker, seq: e.seq, id: e.id, body, reason, now },
        );
        await q.run('UPDATE lockers SET conflicts = conflicts + 1, last_seen = :now WHERE id = :locker', { locker, now });
        await openAlarm(q, locker, 'conflict', e.seq, { id: e.id, reason }, now);
        return 'conflict';
      }
      await this.insertEvent(q, locker, e, { body, hashOk, atMs, now });
      await this.trackDossier(q, locker, e);
      await this.trackLockerAlarm(q, locker, e, now);
      await this.reviewGap(q, locker, now);
      return 'stored';
    });
    if (result === 'stored') this.stats.stored++;
    else if (result === 'duplicate') this.stats.duplicates++;
    else if (result === 'conflict') {
      this.stats.conflicts++;
      this.log.warn({ locker, seq: e.seq, id: e.id }, 'conflicting copy of a stored event: alarm raised');
    }
    return result;
  }

  private async insertEvent(
    q: TxSql,
    locker: string,
    e: { id: string; seq: number; at: string; type: string; actor: string; compartment?: number; dossier?: string; prevHash: string; hash: string },
    x: { body: string; hashOk: boolean; atMs: number; now: number },
  ): Promise<void> {
    let linkOk: number | null;
    if (e.seq === 1) linkOk = e.prevHash === GENESIS_HASH ? 1 : 0;
    else {
      const prev = await q.get<{ hash: string }>('SELECT hash FROM events WHERE locker = :locker AND seq = :seq', { locker, seq: e.seq - 1 });
      linkOk = prev ? (prev.hash === e.prevHash ? 1 : 0) : null;
    }
    await q.run(
      `INSERT INTO events (id, locker, seq, at, at_ms, type, actor, compartment, dossier, prev_hash, hash, body, hash_ok, link_ok, received_at)
       VALUES (:id, :locker, :seq, :at, :atMs, :type, :actor, :compartment, :dossier, :prevHash, :hash, :body, :hashOk, :linkOk, :now)`,
      {
        id: e.id,
        locker,
        seq: e.seq,
        at: e.at,
        atMs: x.atMs,
        type: e.type,
        actor: e.actor,
        compartment: e.compartment ?? null,
        dossier: e.dossier ?? null,
        prevHash: e.prevHash,
        hash: e.hash,
        body: x.body,
        hashOk: x.hashOk ? 1 : 0,
        linkOk,
        now: x.now,
      },
    );
    const broken: { seq: number; reason: string }[] = [];
    if (!x.hashOk) broken.push({ seq: e.seq, reason: 'hash does not match the event' });
    else if (linkOk === 0) broken.push({ seq: e.seq, reason: e.seq === 1 ? 'prevHash of seq 1 is not 64 zeros' : 'prevHash does not match the hash of seq-1' });
    const next = await q.get<{ seq: number; prev_hash: string; hash_ok: number; link_ok: number | null }>(
      'SELECT seq, prev_hash, hash_ok, link_ok FROM events WHERE locker = :locker AND seq = :seq',
      { locker, seq: e.seq + 1 },
    );
    if (next && next.link_ok === null) {
      const ok = next.prev_hash === e.hash ? 1 : 0;
      await q.run('UPDATE events SET link_ok = :ok WHERE locker = :locker AND seq = :seq', { ok, locker, seq: next.seq });
      if (!ok && next.hash_ok) broken.push({ seq: next.seq, reason: 'prevHash does not match the hash of seq-1' });
    }
    await q.run(
      `UPDATE lockers SET events = events + 1, broken = broken + :broken, last_seen = :now,
         max_seq = CASE WHEN max_seq < :seq THEN :seq ELSE max_seq END
       WHERE id = :locker`,
      { locker, seq: e.seq, broken: broken.length, now: x.now },
    );
    for (const b of broken) {
      await openAlarm(q, locker, 'broken', b.seq, { reason: b.reason }, x.now);
      this.log.warn({ locker, seq: b.seq, reason: b.reason }, 'audit chain broken: alarm raised');
    }
  }

  private async trackDossier(q: Sql, locker: string, e: { seq: number; type: string; at: string; compartment?: number; dossier?: string; data?: Record<string, unknown> }) {
    const status = DOSSIER_STATUS[e.type];
    if (!status || !e.dossier) return;
    const rawExpiry = SETS_EXPIRY.has(e.type) ? e.data?.expiresAt : undefined;
    const expires = typeof rawExpiry === 'string' && Number.isFinite(Date.parse(rawExpiry)) ? Date.parse(rawExpiry) : null;
    await q.run(
      `INSERT INTO dossiers (locker, code, status, compartment, last_seq, expires_at_ms, updated_at)
       VALUES (:locker, :code, :status, :compartment, :seq, :expires, :at)
       ON CONFLICT (locker, code) DO UPDATE SET
         status = excluded.status, compartment = excluded.compartment, last_seq = excluded.last_seq, updated_at = excluded.updated_at,
         expires_at_ms = CASE WHEN excluded.status = 'loading' THEN NULL ELSE COALESCE(excluded.expires_at_ms, dossiers.expires_at_ms) END
       WHERE excluded.last_seq > dossiers.last_seq`,
      { locker, code: e.dossier, status, compartment: e.compartment ?? null, seq: e.seq, expires, at: e.at },
    );
  }

  /**
   * A locker's own alarms (a jammed door, an SMS that could not be sent...) are listed here too, kind =
   * the event type, seq = the alarm event's seq; the locker's `alarm.acknowledged` (data.alarmSeq) closes
   * one, with the clerk who handled it as closedBy. Events may arrive out of order: an alarm that
   * arrives after its acknowledgement is stored closed.
   */
  private async trackLockerAlarm(
    q: Sql,
    locker: string,
    e: { seq: number; type: string; actor: string; at: string; compartment?: number; dossier?: string; data?: Record<string, unknown> },
    now: number,
  ): Promise<void> {
    if (ALARM_TYPES.includes(e.type)) {
      await openAlarm(q, locker, e.type, e.seq, { at: e.at, ...(e.compartment !== undefined ? { compartment: e.compartment } : {}), ...(e.dossier !== undefined ? { dossier: e.dossier } : {}) }, now);
      const row = await q.get<{ max_seq: number }>('SELECT max_seq FROM lockers WHERE id = :locker', { locker });
      if (!row || row.max_seq <= e.seq) return;
      const acks = await q.all<{ seq: number; actor: string; body: string }>(
        `SELECT seq, actor, body FROM events WHERE locker = :locker AND type = :type AND seq > :seq ORDER BY seq`,
        { locker, type: ALARM_ACK_TYPE, seq: e.seq },
      );
      for (const a of acks) {
        const data = (JSON.parse(a.body) as { data?: Record<string, unknown> }).data;
        if (data?.alarmSeq === e.seq) await this.closeLockerAlarm(q, locker, e.seq, a.actor, data, now);
      }
      return;
    }
    if (e.type === ALARM_ACK_TYPE && typeof e.data?.alarmSeq === 'number') {
      await this.closeLockerAlarm(q, locker, e.data.alarmSeq, e.actor, e.data, now);
    }
  }

  private async closeLockerAlarm(q: Sql, locker: string, seq: number, actor: string, data: Record<string, unknown>, now: number): Promise<void> {
    const note = typeof data.note === 'string' && data.note !== '' ? data.note : 'acknowledged at the locker';
    const kinds = TRAIL_ALARMS.map((k) => `'${k}'`).join(', ');
    await q.run(
      `UPDATE alarms SET closed_at = :now, closed_by = :actor, note = :note
       WHERE locker = :locker AND seq = :seq AND kind NOT IN (${kinds}) AND closed_at IS NULL`,
      { locker, seq, actor, note, now },
    );
  }

  /**
   * Seqs are missing when the latest known seq (stored or announced by the locker's state) is
   * above the number stored. Notes when that started; opens the alarm once the grace period is
   * over (now, with no grace); closes it when nothing is missing any more.
   */
  async reviewGap(q: Sql, locker: string, now: number): Promise<void> {
    const row = await q.get<{ events: number; max_seq: number; state_seq: number; gap_since: number | null }>(
      'SELECT events, max_seq, state_seq, gap_since FROM lockers WHERE id = :locker',
      { locker },
    );
    if (!row) return;
    const latest = Math.max(row.max_seq, row.state_seq);
    const missing = latest - row.events;
    if (missing <= 0) {
      // A later gap is a new one: ask for its events at once (server/central/gap-heal.ts).
      if (row.gap_since !== null) await q.run('UPDATE lockers SET gap_since = NULL, republish_at = NULL WHERE id = :locker', { locker });
      const closed = await q.run(
        `UPDATE alarms SET closed_at = :now, closed_by = 'system', note = 'the missing events arrived'
         WHERE locker = :locker AND kind = 'gap' AND closed_at IS NULL`,
        { locker, now },
      );
      if (closed > 0) this.log.info({ locker }, 'gap closed: the missing events arrived');
      return;
    }
    const since = row.gap_since ?? now;
    if (row.gap_since === null) await q.run('UPDATE lockers SET gap_since = :now WHERE id = :locker', { locker, now });
    if (now - since < this.opts.gapGraceMs) return;
    const first = await firstMissing(q, locker);
    const fresh = await openAlarm(q, locker, 'gap', 0, { missing, firstMissing: first, latestSeq: latest }, now);
    if (fresh) this.log.warn({ locker, missing, firstMissing: first }, 'events missing: gap alarm raised');
  }

  /** Opens the gap alarms whose grace period has run out; called periodically. */
  async sweepGaps(): Promise<void> {
    const now = this.clock.now();
    const due = await this.db.all<{ id: string }>('SELECT id FROM lockers WHERE gap_since IS NOT NULL AND gap_since <= :cutoff', {
      cutoff: now - this.opts.gapGraceMs,
    });
    for (const { id } of due) {
      await this.db.tx(async (q) => {
        await q.lockLocker(id);
        await this.reviewGap(q, id, now);
      });
    }
  }

  async availability(locker: string, payload: Buffer): Promise<boolean> {
    const parsed = parseAvailability(payload);
    if (!parsed.ok) {
      this.log.warn({ locker, reason: parsed.reason }, 'ignored an invalid availability message');
      return false;
    }
    const now = this.clock.now();
    await this.db.tx(async (q) => {
      await ensureLocker(q, locker, now);
      await q.lockLocker(locker);
      const changed = await q.run(
        `UPDATE lockers SET availability = :state, since = :now, last_seen = :now
         WHERE id = :locker AND (availability IS NULL OR availability <> :state)`,
        { locker, state: parsed.value, now },
      );
      if (changed > 0) this.log.info({ locker, state: parsed.value }, 'locker availability changed');
    });
    return true;
  }

  async state(locker: string, payload: Buffer): Promise<boolean> {
    const parsed = parseState(payload);
    if (!parsed.ok) {
      this.log.warn({ locker, reason: parsed.reason }, 'ignored an invalid state message');
      return false;
    }
    await this.applyState(locker, parsed.value);
    return true;
  }

  /** A state snapshot (retained message or a `state/get` answer); an older one than stored is ignored. */
  async applyState(locker: string, s: LockerStateBody): Promise<void> {
    const now = this.clock.now();
    const counts = { free: 0, loading: 0, occupied: 0, fault: 0, disabled: 0 };
    for (const c of s.compartments) if (Object.hasOwn(counts, c.status)) counts[c.status as keyof typeof counts]++;
    await this.db.tx(async (q) => {
      await ensureLocker(q, locker, now);
      await q.lockLocker(locker);
      const applied = await q.run(
        `UPDATE lockers SET state_seq = :seq, state_at = :at, state = :state, state_received_at = :now, last_seen = :now,
           free = :free, loading = :loading, occupied = :occupied, fault = :fault, disabled = :disabled
         WHERE id = :locker AND (state_seq < :seq OR (state_seq = :seq AND (state_at IS NULL OR state_at <= :at)))`,
        { locker, seq: s.seq, at: s.at, state: JSON.stringify(s), now, ...counts },
      );
      if (applied > 0) await this.reviewGap(q, locker, now);
    });
  }
}

/** The lowest seq missing from a locker's stored trail. */
export async function firstMissing(q: Sql, locker: string): Promise<number> {
  const one = await q.get<{ n: number }>('SELECT 1 AS n FROM events WHERE locker = :locker AND seq = 1', { locker });
  if (!one) return 1;
  const r = await q.get<{ s: number }>(
    `SELECT MIN(e.seq) + 1 AS s FROM events e
     WHERE e.locker = :locker AND NOT EXISTS (SELECT 1 FROM events f WHERE f.locker = :locker AND f.seq = e.seq + 1)`,
    { locker },
  );
  return r?.s ?? 1;
}
