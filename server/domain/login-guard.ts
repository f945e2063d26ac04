// Login throttling shared by the locker and the central service.
//
// The attempt is counted before its password is hashed, in one synchronous step with the check of
// the block: a hash takes tens of milliseconds, and had the count come after it, every guess sent
// in parallel would have passed the check before the first failure was written. A correct password
// then gives its provisional failure back. The number of hashes running at once is bounded too, so
// a storm of logins cannot take every thread of the pool (and the CPU) from the kiosk.
import { DomainError } from './errors.ts';
import type { Clock } from './ports.ts';

/** One counter of failed logins, per account (`user:<name>`) or per address (`ip:<address>`). */
export interface LoginCounter {
  count: number;
  firstAt: number;
  /** 0 when not blocked. */
  blockedUntil: number;
}

/** Where the counters live. Synchronous, so that check and count are one step. */
export interface LoginCounterStore {
  get(key: string): LoginCounter | undefined;
  put(key: string, c: LoginCounter): void;
  delete(key: string): void;
}

export interface LoginLimits {
  /** Wrong passwords checked per account per window; the last of them blocks the account. */
  userFailures: number;
  /** The same per client address, across all names. */
  ipFailures: number;
  windowMs: number;
  blockMs: number;
  /** Password hashes running at once; beyond it a login is answered 429 `busy` unchecked. */
  maxHashing: number;
}

export const LOGIN_LIMITS: LoginLimits = {
  userFailures: 5,
  ipFailures: 20,
  windowMs: 15 * 60_000,
  blockMs: 15 * 60_000,
  maxHashing: 4,
};

/** An attempt let through to the password check: settle it once the check is done. */
export interface LoginAttempt {
  readonly keys: readonly [user: string, ip: string];
  /** Whether the attempt is still holding a hashing slot and its provisional failures. */
  open: boolean;
}

export const userKey = (username: string) => `user:${username}`;
export const ipKey = (ip: string) => `ip:${ip}`;

export class LoginGuard {
  private hashing = 0;

  constructor(
    private readonly store: LoginCounterStore,
    private readonly clock: Clock,
    readonly limits: LoginLimits = LOGIN_LIMITS,
  ) {}

  /** Hashes running now (for tests and metrics). */
  get inFlight(): number {
    return this.hashing;
  }

  /**
   * Checks the blocks and counts the attempt as a failure, before any hashing. Throws 429
   * `throttled` (blocked, or this attempt would exceed a limit) or 429 `busy` (too many hashes at
   * once; nothing is counted then, since nothing is checked).
   */
  begin(username: string, ip: string): LoginAttempt {
    const now = this.clock.now();
    const keys = [userKey(username), ipKey(ip)] as const;
    const limits = [this.limits.userFailures, this.limits.ipFailures];
    const counters = keys.map((k) => this.current(k, now));
    const blockedUntil = Math.max(...counters.map((c) => c.blockedUntil));
    if (blockedUntil > now) {
      const wait = Math.max(1, Math.ceil((blockedUntil - now) / 1000));
      throw new DomainError(429, 'throttled', `Too many failed logins. Try again in ${wait} seconds.`, { 'retry-after': String(wait) });
    }
    if (this.hashing >= this.limits.maxHashing) {
      throw new DomainError(429, 'busy', 'Too many logins at once. Try again in a moment.', { 'retry-after': '1' });
    }
    counters.forEach((c, i) => {
      const count = c.count + 1;
      // The attempt that reaches the limit blocks at once: if it turns out right, it lifts again.
      this.store.put(keys[i], { count, firstAt: c.firstAt, blockedUntil: count >= limits[i] ? now + this.limits.blockMs : 0 });
    });
    this.hashing++;
    return { keys, open: true };
  }

  /** The password was right: the account starts afresh, and the address gets its attempt back. */
  succeeded(a: LoginAttempt): void {
    if (!this.close(a)) return;
    this.store.delete(a.keys[0]);
    const ip = this.store.get(a.keys[1]);
    if (ip) {
      const count = Math.max(0, ip.count - 1);
      this.store.put(a.keys[1], { count, firstAt: ip.firstAt, blockedUntil: count >= this.limits.ipFailures ? ip.blockedUntil : 0 });
    }
  }

  /** The password was wrong: it is already counted; only the hashing slot is given back. */
  failed(a: LoginAttempt): void {
    this.close(a);
  }

  /** An attempt that ended without an answer on its password (an error): counted as a failure. */
  abandoned(a: LoginAttempt): void {
    this.close(a);
  }

  private close(a: LoginAttempt): boolean {
    if (!a.open) return false;
    a.open = false;
    this.hashing--;
    return true;
  }

  /** The counter in force now: one whose window has passed and that blocks nothing starts afresh. */
  private current(key: string, now: number): LoginCounter {
    const c = this.store.get(key);
    if (!c || (now - c.firstAt > this.limits.windowMs && c.blockedUntil <= now)) return { count: 0, firstAt: now, blockedUntil: 0 };
    return c;
  }
}
