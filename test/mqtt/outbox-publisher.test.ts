// The outbox publisher's rules, with a fake client and a hand-driven scheduler: order, bounded
// in-flight, delete on PUBACK only, timeouts and retries, and resuming after a restart.
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../server/db/database.ts';
import { Store } from '../../server/db/store.ts';
import { AuditLog } from '../../server/domain/audit-log.ts';
import type { Scheduler } from '../../server/domain/ports.ts';
import { OutboxPublisher } from '../../server/mqtt/outbox-publisher.ts';
import type { PublishOptions, PublishPort } from '../../server/mqtt/port.ts';
import { ManualClock } from '../helpers/clock.ts';
import { tempDir } from '../helpers/locker.ts';

class ManualScheduler implements Scheduler {
  now = 0;
  private timers: { at: number; fn: () => void; every?: number }[] = [];
  every(ms: number, fn: () => void) {
    const t = { at: this.now + ms, fn, every: ms };
    this.timers.push(t);
    return () => void (this.timers = this.timers.filter((x) => x !== t));
  }
  after(ms: number, fn: () => void) {
    const t = { at: this.now + ms, fn };
    this.timers.push(t);
    return () => void (this.timers = this.timers.filter((x) => x !== t));
  }
  async advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.now = due.at;
      this.timers = this.timers.filter((t) => t !== due);
      if (due.every) this.timers.push({ ...due, at: due.at + due.every });
      due.fn();
    }
    this.now = end;
    await flush();
  }
}

interface Sent {
  topic: string;
  body: any;
  opts: PublishOptions;
  cb: (err?: Error) => void;
}

class FakePort implements PublishPort {
  connected = true;
  sent: Sent[] = [];
  publish(topic: string, payload: string, opts: PublishOptions, cb: (err?: Error) => void) {
    this.sent.push({ topic, body: JSON.parse(payload), opts, cb });
  }
  seqs() {
    return this.sent.map((s) => s.body.seq);
  }
  /** PUBACK for the latest send of `seq`. */
  ack(seq: number) {
    [...this.sent].reverse().find((s) => s.body.seq === seq)!.cb();
  }
}

const flush = () => new Promise((r) => setImmediate(r));
const log = pino({ level: 'silent' });

let dir: string;
let db: Db;
let store: Store;
let audit: AuditLog;
let port: FakePort;
let scheduler: ManualScheduler;
let stalled: number;

function publisher(maxInFlight = 3, publishTimeoutMs = 1000) {
  return new OutboxPublisher(store, port, scheduler, log, { topic: 'locker/L1/events', lockerId: 'L1', maxInFlight, publishTimeoutMs, retryBaseMs: 100 }, () => stalled++);
}

/** `n` events in the outbox, a publisher started and connected, and its first window sent. */
async function sending(n: number, maxInFlight?: number, publishTimeoutMs?: number): Promise<OutboxPublisher> {
  appendEvents(n);
  const p = publisher(maxInFlight, publishTimeoutMs);
  p.start();
  p.connected();
  await scheduler.advance(0);
  return p;
}

function appendEvents(n: number) {
  store.tx(() => {
    for (let i = 0; i < n; i++) audit.append({ type: 'door.closed', actor: 'system', compartment: 1 + (i % 5) });
  });
}

const outboxSeqs = () => (db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);

beforeEach(() => {
  dir = tempDir();
  db = openDatabase(dir);
  store = new Store(db);
  audit = new AuditLog(store, new ManualClock());
  port = new FakePort();
  scheduler = new ManualScheduler();
  stalled = 0;
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('outbox publisher', () => {
  it('publishes in seq order at QoS 1 with the locker id, never more than the in-flight bound', async () => {
    const p = await sending(10, 3);
    expect(port.seqs()).toEqual([1, 2, 3]);
    expect(port.sent[0]).toMatchObject({ topic: 'locker/L1/events', opts: { qos: 1 }, body: { seq: 1, locker: 'L1', type: 'door.closed' } });
    expect(port.sent[0].body.hash).toBe(audit.list(0, 1).events[0].hash);
    expect(p.outstanding()).toBe(3);
    port.ack(1);
    await scheduler.advance(0);
    expect(port.seqs()).toEqual([1, 2, 3, 4]);
  });

  it('deletes an outbox row only once its PUBACK has arrived', async () => {
    const p = await sending(5, 5);
    expect(port.seqs()).toEqual([1, 2, 3, 4, 5]);
    port.ack(2);
    port.ack(4);
    await scheduler.advance(100);
    expect(outboxSeqs()).toEqual([1, 3, 5]);
    expect(p.depth()).toBe(3);
  });

  it('publishes nothing while disconnected and sends what waited once connected', async () => {
    port.connected = false;
    const p = publisher(3);
    p.start();
    appendEvents(2);
    await scheduler.advance(60_000);
    expect(port.sent).toHaveLength(0);
    expect(p.depth()).toBe(2);
    port.connected = true;
    p.connected();
    await scheduler.advance(0);
    expect(port.seqs()).toEqual([1, 2]);
  });

  it('gives up on a publish with no PUBACK in time and sends the event again; the late PUBACK still counts', async () => {
    const p = await sending(2, 3, 1000);
    port.ack(2);
    await scheduler.advance(999);
    expect(port.seqs()).toEqual([1, 2]);
    await scheduler.advance(1 + 100);
    expect(port.seqs()).toEqual([1, 2, 1]);
    expect(p.stats.timeouts).toBe(1);
    // The first attempt's PUBACK arrives late: the row goes, and the second attempt's does nothing more.
    port.sent[0].cb();
    await scheduler.advance(100);
    expect(outboxSeqs()).toEqual([]);
    port.ack(1);
    await scheduler.advance(5000);
    expect(outboxSeqs()).toEqual([]);
    expect(p.outstanding()).toBe(0);
    expect(port.seqs()).toEqual([1, 2, 1]);
  });

  it('counts no timeout while the connection is down (the client resends on reconnect)', async () => {
    appendEvents(1);
    const p = publisher(3, 1000);
    p.start();
    p.connected();
    await scheduler.advance(500);
    port.connected = false;
    p.disconnected();
    await scheduler.advance(10_000);
    expect(p.stats.timeouts).toBe(0);
    port.connected = true;
    p.connected();
    await scheduler.advance(999);
    expect(p.stats.timeouts).toBe(0);
    await scheduler.advance(1);
    expect(p.stats.timeouts).toBe(1);
  });

  it('retries a failed publish after a back-off that grows', async () => {
    const p = await sending(1, 3);
    port.sent[0].cb(new Error('Publish error: Not authorized'));
    await scheduler.advance(99);
    expect(port.sent).toHaveLength(1);
    await scheduler.advance(1);
    expect(port.sent).toHaveLength(2);
    port.sent[1].cb(new Error('Publish error: Not authorized'));
    await scheduler.advance(199);
    expect(port.sent).toHaveLength(2);
    await scheduler.advance(1);
    expect(port.sent).toHaveLength(3);
    port.ack(1);
    await scheduler.advance(50);
    expect(outboxSeqs()).toEqual([]);
  });

  it('keeps abandoned publishes within the bound and reconnects when nothing is acknowledged', async () => {
    const p = await sending(10, 3, 1000);
    await scheduler.advance(1000);
    expect(stalled).toBe(1);
    // The three given-up publishes still occupy the window until the client settles them.
    await scheduler.advance(60_000);
    expect(port.seqs()).toEqual([1, 2, 3]);
    for (const s of port.sent.slice()) s.cb();
    await scheduler.advance(100);
    expect(outboxSeqs()).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(port.seqs().slice(3)).toEqual([4, 5, 6]);
  });

  it('reconnects when a few events get no PUBACK, however large the window', async () => {
    const p = await sending(2, 1000, 1000);
    expect(port.seqs()).toEqual([1, 2]);
    await scheduler.advance(1000);
    expect(stalled).toBe(1);
  });

  it('does not reconnect while PUBACKs still come in, even if one event times out', async () => {
    const p = await sending(3, 1000, 1000);
    await scheduler.advance(500);
    port.ack(1);
    port.ack(2);
    await scheduler.advance(600);
    expect(p.stats.timeouts).toBe(1);
    expect(stalled).toBe(0);
  });

  it('starts over from the outbox after a restart: unacknowledged events are sent again first', async () => {
    const first = await sending(6, 4);
    port.ack(1);
    port.ack(3);
    await scheduler.advance(100);
    first.stop();
    // A PUBACK after stop leaves its row: the next run sends that event again.
    port.ack(2);
    expect(outboxSeqs()).toEqual([2, 4, 5, 6]);

    port = new FakePort();
    const second = publisher(4);
    second.start();
    second.connected();
    await scheduler.advance(0);
    expect(port.seqs()).toEqual([2, 4, 5, 6]);
  });
});
