// One RS485 bus: half duplex, so one request in flight and the next only after its answer or its
// timeout. Every board on the bus shares this queue; boards differ only by address. A reply is read
// by the parser of the request waiting for it (lengths depend on the request); bytes that cannot be
// that reply (noise, a bad checksum, a late answer to an earlier request) are dropped and counted,
// and the request is sent again until its retries are spent. Nothing here knows a protocol.
import type { TimerApi } from '../pulse-sequencer.ts';
import { realTimers } from '../pulse-sequencer.ts';

/** What the transport needs of a serial port (serialport's SerialPort has it; tests use a pty). */
export interface SerialLink {
  write(data: Buffer, cb?: (err?: Error | null) => void): unknown;
  on(event: 'data', fn: (data: Buffer) => void): unknown;
  on(event: 'close', fn: (err?: Error | null) => void): unknown;
}

/** Reads the awaited reply from the front of `buf`; throws for a valid reply that refuses. */
export type ReplyParse<T> = (buf: Buffer) =>
  | { status: 'frame'; frame: T; used: number }
  | { status: 'incomplete' }
  | { status: 'bad'; used: number; reason: string };

export interface TransportOptions {
  /** How long a board has to answer one attempt. */
  timeoutMs: number;
  /** Attempts after the first, on a timeout or a bad reply. */
  retries: number;
  /** Silence between the end of one exchange and the next request (Modbus wants ≥ 3.5 characters). */
  gapMs: number;
}

export const DEFAULT_TRANSPORT: TransportOptions = { timeoutMs: 100, retries: 2, gapMs: 5 };

export class BoardTimeoutError extends Error {
  constructor(readonly attempts: number) {
    super(`no valid answer after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
  }
}

export class BusClosedError extends Error {
  constructor(reason: string) {
    super(`serial bus closed: ${reason}`);
  }
}

export interface TransportStats {
  requests: number;
  answered: number;
  timeouts: number;
  /** Replies dropped while a request waited: bad checksum, wrong address, wrong length. */
  badFrames: number;
  /** Bytes that arrived while no request waited (a board's unsolicited or late frame). */
  strayBytes: number;
  retries: number;
}

interface Pending<T> {
  frame: Buffer;
  parse: ReplyParse<T>;
  /** `false`: a broadcast or a command no board answers; resolves once written. */
  answered: boolean;
  resolve(frame: T | null): void;
  reject(err: Error): void;
}

export class Rs485Transport {
  readonly stats: TransportStats = { requests: 0, answered: 0, timeouts: 0, badFrames: 0, strayBytes: 0, retries: 0 };
  private readonly queue: Pending<unknown>[] = [];
  private current: Pending<unknown> | null = null;
  private attempt = 0;
  private buf = Buffer.alloc(0);
  /** Bumped per attempt, so a timer of an earlier attempt does nothing. */
  private epoch = 0;
  private closed: string | null = null;
  /** The quiet gap after an exchange is running: the next request waits for it. */
  private resting = false;
  private readonly timers: TimerApi;

  constructor(
    private readonly link: SerialLink,
    private readonly opts: TransportOptions = DEFAULT_TRANSPORT,
    timers: TimerApi = realTimers,
  ) {
    this.timers = timers;
    link.on('data', (d) => this.onData(d));
    link.on('close', (err) => this.close(err?.message ?? 'port closed'));
  }

  /** Sends `frame` and resolves with the reply `parse` accepts. */
  request<T>(frame: Buffer, parse: ReplyParse<T>): Promise<T> {
    return this.enqueue(frame, parse, true) as Promise<T>;
  }

  /** Sends a frame nobody answers (a broadcast), in turn with the others. */
  send(frame: Buffer): Promise<void> {
    return this.enqueue(frame, () => ({ status: 'incomplete' }), false).then(() => undefined);
  }

  get isClosed(): boolean {
    return this.closed !== null;
  }

  /** Fails what is queued; the port is the caller's to close. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = reason;
    this.epoch++;
    const err = new BusClosedError(reason);
    this.current?.reject(err);
    this.current = null;
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  private enqueue<T>(frame: Buffer, parse: ReplyParse<T>, answered: boolean): Promise<T | null> {
    if (this.closed) return Promise.reject(new BusClosedError(this.closed));
    return new Promise<T | null>((resolve, reject) => {
      this.queue.push({ frame, parse, answered, resolve, reject } as Pending<unknown>);
      this.stats.requests++;
      if (!this.current) this.next();
    });
  }

  private next(): void {
    if (this.closed || this.current || this.resting) return;
    const p = this.queue.shift();
    if (!p) return;
    this.current = p;
    this.attempt = 0;
    this.transmit();
  }

  private transmit(): void {
    const p = this.current;
    if (!p || this.closed) return;
    const epoch = ++this.epoch;
    this.attempt++;
    // Whatever arrived between exchanges belongs to nobody.
    this.stats.strayBytes += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.link.write(p.frame, (err) => {
      if (epoch !== this.epoch) return;
      if (err) return this.finish(epoch, () => p.reject(err));
      if (!p.answered) return this.finish(epoch, () => p.resolve(null));
    });
    if (p.answered) this.timers.setTimeout(() => this.onTimeout(epoch), this.opts.timeoutMs);
  }

  private onTimeout(epoch: number): void {
    if (epoch !== this.epoch || !this.current) return;
    if (this.attempt <= this.opts.retries) {
      this.stats.retries++;
      this.epoch++;
      this.timers.setTimeout(() => this.transmit(), this.opts.gapMs);
      return;
    }
    this.stats.timeouts++;
    const p = this.current;
    const attempts = this.attempt;
    this.finish(epoch, () => p.reject(new BoardTimeoutError(attempts)));
  }

  private onData(d: Buffer): void {
    const p = this.current;
    if (!p || !p.answered) {
      this.buf = Buffer.concat([this.buf, d]);
      return;
    }
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (!this.buf.length) return;
      let r: ReturnType<ReplyParse<unknown>>;
      try {
        r = p.parse(this.buf);
      } catch (err) {
        // A well-formed reply that says no (an exception reply): the request failed, no retry.
        this.stats.answered++;
        this.buf = Buffer.alloc(0);
        const epoch = this.epoch;
        this.finish(epoch, () => p.reject(err as Error));
        return;
      }
      if (r.status === 'incomplete') return;
      if (r.status === 'bad') {
        this.stats.badFrames++;
        this.buf = this.buf.subarray(Math.max(1, r.used));
        continue;
      }
      this.stats.answered++;
      this.buf = this.buf.subarray(r.used);
      const epoch = this.epoch;
      this.finish(epoch, () => p.resolve(r.frame));
      return;
    }
  }

  /** Ends the exchange in flight, then leaves the bus quiet for the gap before the next one. */
  private finish(epoch: number, settle: () => void): void {
    if (epoch !== this.epoch) return;
    this.epoch++;
    this.current = null;
    this.resting = true;
    settle();
    this.timers.setTimeout(() => {
      this.resting = false;
      this.next();
    }, this.opts.gapMs);
  }
}
