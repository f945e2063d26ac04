// Publishes every audit event from the SQLite outbox at QoS 1, in seq order, and deletes an
// outbox row only once the broker's PUBACK for it has arrived. The outbox is written in the same
// transaction as the state change, so an event survives restarts, power cuts and long uplink
// outages; mqtt.js's own retry store lives in memory and does not.
//
// At most `window` publishes are outstanding. A publish that gets no PUBACK within the timeout
// (counted only while connected) is given up on and sent again; its late PUBACK still counts.
// Consumers see an event more than once in rare cases (QoS 1) and de-duplicate on its id.
// The transaction that deletes acknowledged rows also moves the trail's anchor (audit_anchor).
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditEvent } from '../domain/audit-event.ts';
import { rowToEvent } from '../domain/audit-log.ts';
import type { Scheduler } from '../domain/ports.ts';
import type { PublishPort } from './port.ts';

export interface OutboxOptions {
  topic: string;
  lockerId: string;
  maxInFlight: number;
  publishTimeoutMs: number;
  /** First delay after a failed publish; doubles per consecutive failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Rows read from SQLite at a time. */
  readAhead?: number;
  /** Domain time, for when the anchor moved. */
  now?: () => number;
}

interface Attempt {
  event: AuditEvent;
  cancelTimer: (() => void) | null;
  abandoned: boolean;
  settled: boolean;
  /** PUBACKs counted when its timer was armed: none since means the broker answered nothing. */
  acksAtArm: number;
}

export interface OutboxStats {
  published: number;
  acknowledged: number;
  timeouts: number;
  failures: number;
}

type Row = Parameters<typeof rowToEvent>[0];

/**
 * Moves the anchor to the highest seq acknowledged together with every seq before it. Every event
 * gets its outbox row in its own transaction and loses it only on PUBACK, so that is the event
 * just before the lowest outbox row above the anchor, or the head when there is none. Rows put back
 * by a republish request lie below the anchor and do not hold it back; it never moves down.
 */
const ADVANCE_ANCHOR = `
UPDATE audit_anchor SET seq = f.seq, hash = f.hash, at = @at
FROM (
  SELECT a.seq, a.hash FROM audit_events a, audit_anchor x
  WHERE x.id = 1 AND a.seq = COALESCE(
    (SELECT MIN(o.seq) - 1 FROM outbox o WHERE o.seq > x.seq),
    (SELECT MAX(seq) FROM audit_events))
) AS f
WHERE audit_anchor.id = 1 AND f.seq > audit_anchor.seq`;

export class OutboxPublisher {
  private readonly selectAfter;
  private readonly deleteOne;
  private readonly advanceAnchor;
  private readonly countAll;
  private readonly o: Required<OutboxOptions>;
  private window: number;
  private readonly lockerJson: string;
  private cursor = 0;
  private ahead: AuditEvent[] = [];
  /** Next unread entry of `ahead` (an index, not shift(): a drain takes thousands). */
  private aheadAt = 0;
  private retry: AuditEvent[] = [];
  private readonly live = new Map<number, Attempt>();
  private abandoned = 0;
  private acked: number[] = [];
  private cancelFlush: (() => void) | null = null;
  private cancelBackoff: (() => void) | null = null;
  private consecutiveFailures = 0;
  private running = false;
  private closed = false;
  private pumpQueued = false;
  private unsubscribe: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  readonly stats: OutboxStats = { published: 0, acknowledged: 0, timeouts: 0, failures: 0 };

  constructor(
    private readonly store: Store,
    private readonly port: PublishPort,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    options: OutboxOptions,
    /** Called when every outstanding publish has timed out: the connection acknowledges nothing. */
    private readonly onStalled: () => void = () => {},
  ) {
    this.o = { retryBaseMs: 500, retryMaxMs: 30_000, readAhead: 500, now: Date.now, ...options };
    this.window = this.o.maxInFlight;
    this.lockerJson = JSON.stringify(this.o.lockerId);
    const db = store.db;
    this.selectAfter = db.prepare<[number, number], Row>(
      'SELECT a.* FROM outbox o JOIN audit_events a ON a.seq = o.seq WHERE o.seq > ? ORDER BY o.seq LIMIT ?',
    );
    this.deleteOne = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.advanceAnchor = db.prepare(ADVANCE_ANCHOR);
    this.countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox');
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.store.onCommit(() => this.kick());
    this.kick();
  }

  /** Stops sending; what is outstanding stays in the outbox for the next run. */
  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelBackoff?.();
    this.cancelBackoff = null;
    for (const a of this.live.values()) this.disarm(a);
    this.flush();
    // The database closes next: a PUBACK that arrives later leaves its row for the next run.
    this.closed = true;
  }

  /** Resolves when nothing is outstanding, or after `ms` of real time (a shutdown bound). */
  async idle(ms: number): Promise<void> {
    if (this.outstanding() === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  /** The connection is up: the broker may allow fewer in-flight messages than configured. */
  connected(window?: number): void {
    this.window = Math.max(1, Math.min(this.o.maxInFlight, window ?? this.o.maxInFlight));
    // Fresh timeouts: mqtt.js has just resent what it held, on the new connection.
    for (const a of this.live.values()) this.arm(a);
    this.kick();
  }

  /** The connection dropped: no timeouts while there is nobody to answer. */
  disconnected(): void {
    for (const a of this.live.values()) this.disarm(a);
  }

  /** Rows were put back into the outbox (a republish request): read it again from the start. */
  rewind(): void {
    this.cursor = 0;
    this.ahead = [];
    this.aheadAt = 0;
    this.kick();
  }

  outstanding(): number {
    return this.live.size + this.abandoned;
  }

  /** Rows still waiting for a PUBACK (acknowledged rows awaiting deletion are not counted). */
  depth(): number {
    return this.countAll.get()!.n - this.acked.length;
  }

  /** Coalesces bursts of commits into one pass. */
  kick(): void {
    if (this.pumpQueued || !this.running) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running || !this.port.connected || this.cancelBackoff) return;
    while (this.outstanding() < this.window) {
      const event = this.take();
      if (!event) break;
      this.send(event);
      // A synchronous failure (client closing) puts the event back and starts a back-off.
      if (this.cancelBackoff || !this.port.connected) break;
    }
  }

  private take(): AuditEvent | undefined {
    const retry = this.retry.shift();
    if (retry) return retry;
    if (this.aheadAt >= this.ahead.length) {
      const rows = this.selectAfter.all(this.cursor, this.o.readAhead);
      if (rows.length === 0) return undefined;
      this.cursor = rows[rows.length - 1].seq;
      // After a rewind, what is already on its way is not sent a second time.
      this.ahead = rows.filter((r) => !this.live.has(r.seq) && !this.retry.some((e) => e.seq === r.seq)).map(rowToEvent);
      this.aheadAt = 0;
      if (this.ahead.length === 0) return this.take();
    }
    return this.ahead[this.aheadAt++];
  }

  private send(event: AuditEvent): void {
    const attempt: Attempt = { event, cancelTimer: null, abandoned: false, settled: false, acksAtArm: 0 }; // arm() sets acksAtArm
    this.live.set(event.seq, attempt);
    if (this.port.connected) this.arm(attempt);
    this.stats.published++;
    // The event's JSON with the locker id appended: the same text as stringifying a copy with it.
    const json = JSON.stringify(event);
    const payload = `${json.slice(0, -1)},"locker":${this.lockerJson}}`;
    this.port.publish(this.o.topic, payload, { qos: 1 }, (err) => this.settle(attempt, err));
  }

  private settle(a: Attempt, err?: Error): void {
    if (a.settled) return;
    a.settled = true;
    this.disarm(a);
    if (a.abandoned) {
      this.abandoned--;
      if (!err) this.acknowledge(a.event.seq);
    } else {
      if (this.live.get(a.event.seq) === a) this.live.delete(a.event.seq);
      if (err) {
        this.stats.failures++;
        this.log.warn({ seq: a.event.seq, err: err.message }, 'event publish failed; will retry');
        this.requeue(a.event);
        this.backOff();
      } else {
        this.consecutiveFailures = 0;
        this.acknowledge(a.event.seq);
      }
    }
    if (this.outstanding() === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.kick();
  }

  private timeout(a: Attempt): void {
    a.cancelTimer = null;
    if (a.settled || a.abandoned) return;
    this.stats.timeouts++;
    this.log.warn({ seq: a.event.seq, timeoutMs: this.o.publishTimeoutMs }, 'no PUBACK in time; publishing the event again');
    this.live.delete(a.event.seq);
    a.abandoned = true;
    this.abandoned++;
    this.requeue(a.event);
    if (this.live.size === 0 && this.stats.acknowledged === a.acksAtArm) {
      // Everything outstanding has timed out and no PUBACK at all came in the meantime: the
      // connection is dead even if the socket does not know it yet. A new connection makes mqtt.js
      // resend what it holds. (Not "a window's worth timed out": with a large window and a few
      // events, that would take hundreds of rounds.)
      this.log.warn({ outstanding: this.abandoned }, 'broker acknowledges nothing; reconnecting');
      this.onStalled();
    }
    this.backOff();
  }

  private acknowledge(seq: number): void {
    if (this.closed) return;
    this.stats.acknowledged++;
    const i = this.retry.findIndex((e) => e.seq === seq);
    if (i >= 0) this.retry.splice(i, 1);
    this.acked.push(seq);
    if (this.acked.length >= 2000) this.flush();
    else if (!this.cancelFlush) this.cancelFlush = this.scheduler.after(20, () => this.flush());
  }

  /** Deletes acknowledged rows in one transaction: one fsync for many PUBACKs. */
  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = null;
    if (this.acked.length === 0) return;
    const seqs = this.acked;
    this.acked = [];
    try {
      this.store.tx(() => {
        for (const s of seqs) this.deleteOne.run(s);
        this.advanceAnchor.run({ at: this.o.now() });
      });
    } catch (err) {
      // The rows stay; a restart would publish them again, which consumers de-duplicate.
      this.log.error({ err }, 'could not delete acknowledged outbox rows; retrying');
      this.acked.push(...seqs);
      this.cancelFlush = this.scheduler.after(1000, () => this.flush());
    }
  }

  private requeue(event: AuditEvent): void {
    if (this.retry.some((e) => e.seq === event.seq)) return;
    const i = this.retry.findIndex((e) => e.seq > event.seq);
    if (i < 0) this.retry.push(event);
    else this.retry.splice(i, 0, event);
  }

  private backOff(): void {
    if (this.cancelBackoff) return;
    this.consecutiveFailures++;
    const ms = Math.min(this.o.retryBaseMs * 2 ** Math.min(this.consecutiveFailures - 1, 16), this.o.retryMaxMs);
    this.cancelBackoff = this.scheduler.after(ms, () => {
      this.cancelBackoff = null;
      this.pump();
    });
  }

  private arm(a: Attempt): void {
    this.disarm(a);
    a.acksAtArm = this.stats.acknowledged;
    a.cancelTimer = this.scheduler.after(this.o.publishTimeoutMs, () => this.timeout(a));
  }

  private disarm(a: Attempt): void {
    a.cancelTimer?.();
    a.cancelTimer = null;
  }
}
