// The central service's login counters: held in memory, so that LoginGuard can check and count in
// one synchronous step, and written through to the database's login_failures table in order, so a
// restart forgets no block.
//
// A key is read from the database the first time this process sees it (after a restart, or when
// another instance counted it first); from then on this process's own count is the one in force.
// With several instances behind one address, each holds an account to its own limits, so the bound
// is the limits times the number of instances; a load balancer that keeps a client on one instance
// (by address) keeps the bound at the limits themselves.
import type { Logger } from 'pino';
import type { LoginCounter, LoginCounterStore, LoginLimits } from '../domain/login-guard.ts';
import type { Clock } from '../domain/ports.ts';
import type { CentralDb } from './db/sql.ts';

/** Above this many keys, counters that block nothing and whose window has passed are dropped. */
const PRUNE_ABOVE = 10_000;

export class CachedLoginCounters implements LoginCounterStore {
  private readonly mem = new Map<string, LoginCounter>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: CentralDb,
    private readonly clock: Clock,
    private readonly limits: LoginLimits,
    private readonly log: Logger,
  ) {}

  /** Reads the keys this process has not seen yet. */
  async load(keys: string[]): Promise<void> {
    const unseen = keys.filter((k) => !this.mem.has(k));
    if (unseen.length === 0) return;
    const params = Object.fromEntries(unseen.map((k, i) => [`k${i}`, k]));
    const rows = await this.db.all<{ key: string; count: number; first_at: number; blocked_until: number }>(
      `SELECT key, count, first_at, blocked_until FROM login_failures WHERE key IN (${unseen.map((_k, i) => `:k${i}`).join(', ')})`,
      params,
    );
    // Another login may have counted the key while the query ran: its count is newer.
    for (const r of rows) {
      if (!this.mem.has(r.key)) this.mem.set(r.key, { count: Number(r.count), firstAt: Number(r.first_at), blockedUntil: Number(r.blocked_until) });
    }
  }

  get(key: string): LoginCounter | undefined {
    return this.mem.get(key);
  }

  put(key: string, c: LoginCounter): void {
    this.mem.set(key, c);
    if (this.mem.size > PRUNE_ABOVE) this.prune();
    this.write(() =>
      this.db.run(
        `INSERT INTO login_failures (key, count, first_at, blocked_until) VALUES (:key, :count, :first, :blocked)
         ON CONFLICT (key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at, blocked_until = excluded.blocked_until`,
        { key, count: c.count, first: c.firstAt, blocked: c.blockedUntil },
      ),
    );
  }

  delete(key: string): void {
    // Kept in memory as a zero count: a later load must not bring the old row back before its delete lands.
    this.mem.set(key, { count: 0, firstAt: this.clock.now(), blockedUntil: 0 });
    this.write(() => this.db.run('DELETE FROM login_failures WHERE key = :key', { key }));
  }

  /** Resolves once every write so far has reached the database. */
  flushed(): Promise<void> {
    return this.writes;
  }

  private write(fn: () => Promise<unknown>): void {
    this.writes = this.writes.then(fn).then(
      () => undefined,
      (err: unknown) => this.log.error({ err }, 'login counter not saved'),
    );
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [k, c] of this.mem) if (c.blockedUntil <= now && now - c.firstAt > this.limits.windowMs) this.mem.delete(k);
  }
}
