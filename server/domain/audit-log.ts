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

/** The newest event the broker acknowledged together with every earlier one; seq 0: none yet. */
export interface AuditAnchor {
  seq: number;
  hash: string | null;
  at: string | null;
}

export interface TrailCheck extends ChainCheck {
  anchored: AuditAnchor;
  /** Events after the anchor: not yet confirmed by the broker, so only this locker holds them. */
  unconfirmed: number;
}

export class AuditLog {
  private readonly head;
  private readonly insert;
  private readonly insertOutbox;
  private readonly page;
  private readonly all;
  private readonly anchorRow;

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
    this.anchorRow = db.prepare<[], { seq: number; hash: string | null; at: number | null }>('SELECT seq, hash, at FROM audit_anchor WHERE id = 1');
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

  anchor(): AuditAnchor {
    const a = this.anchorRow.get() ?? { seq: 0, hash: null, at: null };
    return { seq: a.seq, hash: a.hash, at: a.at === null ? null : new Date(a.at).toISOString() };
  }

  /**
   * The chain, and the chain against its anchor: events the broker acknowledged cannot have gone
   * missing or changed since, whatever was re-hashed after them.
   */
  verify(): TrailCheck {
    const anchored = this.anchor();
    let hashAtAnchor: string | undefined;
    const rows = this.all.iterate();
    const chain = verifyChain((function* () {
      for (const r of rows) {
        if (r.seq === anchored.seq) hashAtAnchor = r.hash;
        yield rowToEvent(r);
      }
    })());
    const unconfirmed = Math.max(0, chain.lastSeq - anchored.seq);
    if (!chain.ok || anchored.seq === 0) return { ...chain, anchored, unconfirmed };
    const broken = (reason: string): TrailCheck => ({ ...chain, ok: false, brokenAt: anchored.seq, reason, anchored, unconfirmed: 0 });
    if (chain.lastSeq < anchored.seq) {
      return broken(`the trail ends at seq ${chain.lastSeq}, but the broker acknowledged events up to seq ${anchored.seq} (at ${anchored.at}): events were deleted`);
    }
    if (hashAtAnchor !== anchored.hash) {
      return broken(`event ${anchored.seq} has another hash than the one the broker acknowledged (at ${anchored.at}): the trail was rewritten`);
    }
    return { ...chain, anchored, unconfirmed };
  }
}
