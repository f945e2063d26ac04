// Verifies a locker's stored trail again from what is in the central database: every stored
// body is hashed anew (server/domain/audit-event.ts hashEvent), every link to seq-1 checked, every
// missing seq up to the latest known one listed. This is the auditor's "prove it" and does not
// trust the flags set on arrival, so a row altered inside the central database shows up too.
import { GENESIS_HASH, hashEvent, type AuditEvent } from '../domain/audit-event.ts';
import type { Sql } from './db/sql.ts';

export interface TrailReport {
  ok: boolean;
  count: number;
  latestSeq: number;
  gaps: number[];
  /** True when there were more missing seqs than listed. */
  gapsTruncated?: boolean;
  broken: number[];
  /** Seqs of which a second, different copy arrived (also listed in broken). */
  conflicts: number[];
  head: string | null;
}

const PAGE = 2000;
export const MAX_GAPS_LISTED = 10_000;

export async function checkTrail(q: Sql, locker: string): Promise<TrailReport | null> {
  const row = await q.get<{ max_seq: number; state_seq: number }>('SELECT max_seq, state_seq FROM lockers WHERE id = :locker', { locker });
  if (!row) return null;
  const latestSeq = Math.max(row.max_seq, row.state_seq);
  const gaps: number[] = [];
  let gapsTruncated = false;
  const broken = new Set<number>();
  const missing = (from: number, to: number) => {
    for (let s = from; s <= to; s++) {
      if (gaps.length >= MAX_GAPS_LISTED) {
        gapsTruncated = true;
        return;
      }
      gaps.push(s);
    }
  };
  let count = 0;
  let prevSeq = 0;
  let prevHash: string | null = GENESIS_HASH;
  let head: string | null = null;
  for (let after = 0; ; ) {
    const rows = await q.all<{ seq: number; hash: string; body: string }>(
      'SELECT seq, hash, body FROM events WHERE locker = :locker AND seq > :after ORDER BY seq LIMIT :limit',
      { locker, after, limit: PAGE },
    );
    for (const r of rows) {
      count++;
      if (r.seq !== prevSeq + 1) {
        missing(prevSeq + 1, r.seq - 1);
        prevHash = null;
      }
      let event: AuditEvent | null = null;
      try {
        event = JSON.parse(r.body) as AuditEvent;
      } catch {
        // an unreadable body is as broken as a wrong hash
      }
      const intact = event !== null && event.seq === r.seq && event.hash === r.hash && hashEvent(event) === r.hash;
      const linked = prevHash === null || (event !== null && event.prevHash === prevHash);
      if (!intact || !linked) broken.add(r.seq);
      prevSeq = r.seq;
      prevHash = r.hash;
      head = r.hash;
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].seq;
  }
  missing(prevSeq + 1, latestSeq);
  const conflicts = (
    await q.all<{ seq: number }>('SELECT DISTINCT seq FROM event_conflicts WHERE locker = :locker AND seq IS NOT NULL ORDER BY seq', { locker })
  ).map((r) => r.seq);
  for (const s of conflicts) broken.add(s);
  const brokenList = [...broken].sort((a, b) => a - b);
  return {
    ok: gaps.length === 0 && brokenList.length === 0,
    count,
    latestSeq,
    gaps,
    ...(gapsTruncated ? { gapsTruncated } : {}),
    broken: brokenList,
    conflicts,
    head,
  };
}

/** The missing seq ranges of a locker's stored trail up to `latest`, lowest first, at most `max` ranges. */
export async function missingRanges(q: Sql, locker: string, latest: number, max: number): Promise<{ from: number; to: number }[]> {
  const out: { from: number; to: number }[] = [];
  const first = await q.get<{ s: number | null }>('SELECT MIN(seq) AS s FROM events WHERE locker = :locker', { locker });
  const lowest = first?.s ?? null;
  if (lowest === null) return latest > 0 ? [{ from: 1, to: latest }] : [];
  if (lowest > 1) out.push({ from: 1, to: lowest - 1 });
  const rows = await q.all<{ start: number; next: number | null }>(
    `SELECT e.seq + 1 AS start, (SELECT MIN(f.seq) FROM events f WHERE f.locker = :locker AND f.seq > e.seq) AS next
     FROM events e
     WHERE e.locker = :locker AND NOT EXISTS (SELECT 1 FROM events g WHERE g.locker = :locker AND g.seq = e.seq + 1)
     ORDER BY e.seq LIMIT :max`,
    { locker, max },
  );
  for (const r of rows) {
    const to = r.next === null ? latest : r.next - 1;
    if (to >= r.start) out.push({ from: r.start, to });
  }
  return out.slice(0, max);
}
