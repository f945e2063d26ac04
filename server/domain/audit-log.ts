import { randomUUID } from 'node:crypto';
import type { Store } from '../db/store.ts';
import { GENESIS_HASH, hashEvent, verifyChain, type AuditEvent, type ChainCheck } from './audit-event.ts';
import type { Clock } from './ports.ts';

export interface NewEvent {
  type: string;
  actor: string;
  compartment?: number;
  dossier?: string;
  data?: Record<string, unknown>;
}

interface Row {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor: string;
  compartment: number | null;
  dossier: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

export function rowToEvent(r: Row): AuditEvent {
  // Key order as the contract lists it, for readers; the hash does not depend on it. Built in
  // one go: the outbox turns every row it publishes into an event.
  const e: AuditEvent = { id: r.id, seq: r.seq, at: r.at, type: r.type, actor: r.actor } as AuditEvent;
  if (r.compartment !== null) e.compartment = r.compartment;
  if (r.dossier !== null) e.dossier = r.dossier;
  if (r.data !== null) e.data = JSON.parse(r.data);
  e.prevHash = r.prev_hash;
  e.hash = r.hash;
  return e;
}

export class AuditLog {
  private readonly head;
  private readonly insert;
  private readonly insertOutbox;
  private readonly page;
  private readonly all;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    const db = store.db;
    this.head = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    this.insert = db.prepare(
      `INSERT INTO audit_events (seq, id, at, type, actor, compartment, dossier, data, prev_hash, hash)
       VALUES (@seq, @id, @at, @type, @actor, @compartment, @dossier, @data, @prevHash, @hash)`,
    );
    this.insertOutbox = db.prepare('INSERT INTO outbox (seq) VALUES (?)');
    this.page = db.prepare<[number, number], Row>('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.all = db.prepare<[], Row>('SELECT * FROM audit_events ORDER BY seq');
  }

  /** Appends one event to the chain and the outbox. Must run inside Store.tx. */
  append(input: NewEvent): AuditEvent {
    return this.store.tx(() => {
      const head = this.head.get();
      const event: Omit<AuditEvent, 'hash'> = {
        id: randomUUID(),
        seq: (head?.seq ?? 0) + 1,
        at: new Date(this.clock.now()).toISOString(),
        type: input.type,
        actor: input.actor,
        ...(input.compartment !== undefined ? { compartment: input.compartment } : {}),
        ...(input.dossier !== undefined ? { dossier: input.dossier } : {}),
        ...(input.data !== undefined ? { data: input.data } : {}),
        prevHash: head?.hash ?? GENESIS_HASH,
      };
      const full: AuditEvent = { ...event, hash: hashEvent(event) };
      this.insert.run({
        seq: full.seq,
        id: full.id,
        at: full.at,
        type: full.type,
        actor: full.actor,
        compartment: full.compartment ?? null,
        dossier: full.dossier ?? null,
        data: full.data === undefined ? null : JSON.stringify(full.data),
        prevHash: full.prevHash,
        hash: full.hash,
      });
      this.insertOutbox.run(full.seq);
      this.store.recordPending(full);
      return full;
    });
  }

  list(after: number, limit: number): { events: AuditEvent[]; next: number | null } {
    const rows = this.page.all(after, limit + 1);
    const more = rows.length > limit;
    const events = rows.slice(0, limit).map(rowToEvent);
    return { events, next: more ? events[events.length - 1].seq : null };
  }

  latestSeq(): number {
    return this.head.get()?.seq ?? 0;
  }

  verify(): ChainCheck {
    const rows = this.all.iterate();
    return verifyChain((function* () {
      for (const r of rows) yield rowToEvent(r);
    })());
  }
}
