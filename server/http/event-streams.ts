// The open live streams of the staff console and what keeps them from eating the locker's memory:
// a console that stops reading is dropped once its backlog passes a byte limit (or it has not
// drained for a while), and one session holds a few streams at most (a new one replaces its oldest,
// so a tab reopened after a laptop slept still gets in while the dead stream is still counted).
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.ts';
import type { Clock } from '../domain/ports.ts';

export interface StreamLimits {
  /** Streams open at once, all sessions together (503 `too_many_streams` beyond it). */
  maxStreams: number;
  /** Streams one session (one login) may hold; a further one replaces the oldest. */
  perSession: number;
  /** Bytes waiting for one console (not yet taken by its socket) before it is dropped. */
  maxBufferedBytes: number;
  /** How long a console may stay behind (its socket not drained) before it is dropped. */
  stallMs: number;
}

export const STREAM_LIMITS: StreamLimits = { maxStreams: 32, perSession: 4, maxBufferedBytes: 256 * 1024, stallMs: 30_000 };

export type DropReason = 'too_slow' | 'stalled' | 'replaced' | 'logged_out' | 'shutdown';

export interface StreamClient {
  readonly res: ServerResponse;
  readonly token: string;
  readonly username: string;
  /** When a write was last refused by the socket and not drained since (null: keeping up). */
  behindSince: number | null;
}

export interface StreamStats {
  open: number;
  dropped: Record<'too_slow' | 'stalled' | 'replaced', number>;
  /** The most bytes seen waiting for any one stream since start. */
  maxBufferedBytes: number;
}

export const sseFrame = (name: string, payload: unknown) => `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;

export class EventStreams {
  private readonly clients = new Set<StreamClient>();
  private readonly dropped = { too_slow: 0, stalled: 0, replaced: 0 };
  private maxBuffered = 0;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly limits: StreamLimits = STREAM_LIMITS,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Makes room for a new stream of this session, or refuses it when all streams are taken. */
  admit(token: string): void {
    const mine = [...this.clients].filter((c) => c.token === token);
    for (const c of mine.slice(0, Math.max(0, mine.length - this.limits.perSession + 1))) this.drop(c, 'replaced');
    if (this.clients.size >= this.limits.maxStreams) {
      throw new DomainError(503, 'too_many_streams', `All ${this.limits.maxStreams} live streams are taken; close a console and try again.`);
    }
  }

  add(res: ServerResponse, token: string, username: string): StreamClient {
    const client: StreamClient = { res, token, username, behindSince: null };
    this.clients.add(client);
    res.on('drain', () => (client.behindSince = null));
    res.on('close', () => this.clients.delete(client));
    return client;
  }

  /** Writes one frame to one stream, dropping it instead when it has fallen too far behind. */
  write(c: StreamClient, frame: string, bytes = Buffer.byteLength(frame)): void {
    if (!this.clients.has(c)) return;
    const now = this.clock.now();
    if (c.res.writableLength + bytes > this.limits.maxBufferedBytes) return this.drop(c, 'too_slow');
    if (c.behindSince !== null && now - c.behindSince >= this.limits.stallMs) return this.drop(c, 'stalled');
    if (!c.res.write(frame)) c.behindSince ??= now;
    if (c.res.writableLength > this.maxBuffered) this.maxBuffered = c.res.writableLength;
  }

  broadcast(frame: string): void {
    const bytes = Buffer.byteLength(frame);
    for (const c of [...this.clients]) this.write(c, frame, bytes);
  }

  /** A ping to every stream; a stream whose session has ended is closed instead. */
  heartbeat(sessionLive: (token: string) => boolean): void {
    for (const c of [...this.clients]) {
      if (!sessionLive(c.token)) this.drop(c, 'logged_out');
      else this.write(c, ': ping\n\n');
    }
  }

  closeAll(): void {
    for (const c of [...this.clients]) this.drop(c, 'shutdown');
  }

  stats(): StreamStats {
    return { open: this.clients.size, dropped: { ...this.dropped }, maxBufferedBytes: this.maxBuffered };
  }

  private drop(c: StreamClient, reason: DropReason): void {
    if (!this.clients.delete(c)) return;
    const res = c.res;
    if (reason === 'too_slow' || reason === 'stalled') {
      this.dropped[reason]++;
      this.log.info({ user: c.username, reason, bufferedBytes: res.writableLength, limit: this.limits.maxBufferedBytes }, 'live stream dropped: the console fell behind');
      // Ending would wait for the backlog to be read; destroying frees it now.
      res.destroy();
      return;
    }
    if (reason === 'replaced') {
      this.dropped.replaced++;
      this.log.info({ user: c.username, reason, perSession: this.limits.perSession }, 'live stream replaced by a newer one of the same session');
    }
    // The page reads the reason (a replaced tab waits longer before it tries again).
    if (!res.writableEnded) res.end(sseFrame('end', { reason, ...(reason === 'replaced' ? { perSession: this.limits.perSession } : {}) }));
    if (res.writableLength > 0) res.destroy();
  }
}
