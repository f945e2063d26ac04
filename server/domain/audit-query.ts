// Reading the trail for people: filtered and paged in SQL, so an auditor's screen or an export
// never needs the whole trail in memory. Appending and verifying stay in AuditLog.
import type { Store } from '../db/store.ts';
import type { AuditEvent } from './audit-event.ts';
import { rowToEvent } from './audit-log.ts';

/** Every part optional; all given parts must hold. Times are ISO instants, both ends inclusive. */
export interface AuditFilter {
  from?: string;
  to?: string;
  types?: string[];
  compartment?: number;
  /** Part of a dossier code, any case (a partly scanned barcode finds it). */
  dossier?: string;
  /** `citizen`, `system`, `central`, `staff:<name>`, or `staff` for any staff member. */
  actor?: string;
}

export interface AuditRange {
  /** Only events with a seq above this. */
  after?: number;
  /** Only events with a seq below this. */
  before?: number;
  limit: number;
  order: 'asc' | 'desc';
}

type Params = Record<string, string | number>;
interface Loose {
  all(params?: Params): unknown[];
  get(params?: Params): unknown;
}

function where(f: AuditFilter, range: { after?: number; before?: number }): { sql: string; params: Params } {
  const parts: string[] = [];
  const params: Params = {};
  if (range.after !== undefined && range.after > 0) {
    parts.push('seq > @after');
    params.after = range.after;
  }
  if (range.before !== undefined) {
    parts.push('seq < @before');
    params.before = range.before;
  }
  if (f.from !== undefined) {
    parts.push('at >= @from');
    params.from = f.from;
  }
  if (f.to !== undefined) {
    parts.push('at <= @to');
    params.to = f.to;
  }
  if (f.types && f.types.length > 0) {
    const names = f.types.map((t, i) => {
      params[`type${i}`] = t;
      return `@type${i}`;
    });
    parts.push(`type IN (${names.join(', ')})`);
  }
  if (f.compartment !== undefined) {
    parts.push('compartment = @compartment');
    params.compartment = f.compartment;
  }
  if (f.dossier !== undefined) {
    // LIKE ignores ASCII case, which is all a dossier code holds; `_` is a code character, escaped.
    parts.push(`dossier LIKE @dossier ESCAPE '\\'`);
    params.dossier = `%${f.dossier.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  if (f.actor !== undefined) {
    if (f.actor === 'staff') parts.push(`actor LIKE 'staff:%'`);
    else {
      parts.push('actor = @actor');
      params.actor = f.actor;
    }
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export class AuditQuery {
  // One prepared statement per filter shape (a few dozen at most).
  private readonly statements = new Map<string, Loose>();

  constructor(private readonly store: Store) {}

  private prepared(sql: string): Loose {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.store.db.prepare(sql) as unknown as Loose;
      this.statements.set(sql, s);
    }
    return s;
  }

  /** One page; `next` is the seq to pass as `after` (ascending) or `before` (descending) for the next one. */
  page(f: AuditFilter, range: AuditRange): { events: AuditEvent[]; next: number | null } {
    const w = where(f, range);
    const rows = this.prepared(`SELECT * FROM audit_events ${w.sql} ORDER BY seq ${range.order === 'desc' ? 'DESC' : 'ASC'} LIMIT @limit`).all({
      ...w.params,
      limit: range.limit + 1,
    }) as Parameters<typeof rowToEvent>[0][];
    const more = rows.length > range.limit;
    const events = rows.slice(0, range.limit).map(rowToEvent);
    return { events, next: more ? events[events.length - 1].seq : null };
  }

  /** How many events the filter matches. */
  count(f: AuditFilter): number {
    const w = where(f, {});
    return (this.prepared(`SELECT COUNT(*) AS n FROM audit_events ${w.sql}`).get(w.params) as { n: number }).n;
  }

  /** Every type present in the trail (from the type index). */
  typesPresent(): string[] {
    return (this.prepared('SELECT DISTINCT type FROM audit_events ORDER BY type').all() as { type: string }[]).map((r) => r.type);
  }

  /**
   * Every matching event up to the trail's head at the call, in seq order, `chunk` at a time. Each
   * chunk is its own short query, so no statement stays open while the caller waits on a slow
   * reader, and the doors and kiosk keep writing in between.
   */
  *chunks(f: AuditFilter, chunk = 500): Generator<AuditEvent[]> {
    const head = (this.prepared('SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_events').get() as { seq: number }).seq;
    let after = 0;
    for (;;) {
      const { events } = this.page(f, { after, before: head + 1, limit: chunk, order: 'asc' });
      if (events.length === 0) return;
      yield events;
      if (events.length < chunk) return;
      after = events[events.length - 1].seq;
    }
  }
}
