// Staff, auditor and admin accounts; bearer sessions; login throttling kept in the database.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import { DomainError } from './errors.ts';
import { LOGIN_LIMITS, LoginGuard, type LoginCounterStore, type LoginLimits } from './login-guard.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import type { Clock } from './ports.ts';

export const ROLES = ['staff', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  username: string;
  role: Role;
}

/** An account as the command line and the console show it: never its hash. */
export interface UserInfo {
  username: string;
  role: Role;
  /** `blocked` = too many failed logins; it lifts by itself at blockedUntil, or by unlock. */
  state: 'active' | 'disabled' | 'blocked';
  createdAt: string;
  disabledAt: string | null;
  blockedUntil: string | null;
}

export interface UnlockResult {
  /** Whether a block on the name was in force (and is now lifted). */
  wasBlocked: boolean;
  /** Addresses still blocked: per-address blocks are not tied to one account, so unlock leaves them. */
  blockedAddresses: number;
  /** When the last of those lifts by itself (ISO time), or null. */
  addressesFreeAt: string | null;
}

export const USERNAME_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
export const MIN_PASSWORD = 8;
/** The login form takes up to this many characters: a longer password could never be typed in. */
export const MAX_PASSWORD = 256;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new DomainError(400, 'weak_password', `A password has at least ${MIN_PASSWORD} characters.`);
  if (password.length > MAX_PASSWORD) throw new DomainError(400, 'weak_password', `A password has at most ${MAX_PASSWORD} characters.`);
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class AuthService {
  // Every staff request checks its token: prepared once, not per request.
  private readonly selectSession;
  private readonly guard: LoginGuard;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    limits: LoginLimits = LOGIN_LIMITS,
  ) {
    this.guard = new LoginGuard(sqliteLoginCounters(store), clock, limits);
    // The join makes a disabled account's tokens stop at the next request, even one issued
    // between the disable and the deletion of its sessions.
    this.selectSession = store.db.prepare<[string, number], Principal>(
      `SELECT s.username, s.role FROM sessions s JOIN users u ON u.username = s.username
       WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`,
    );
  }

  listUsers(): UserInfo[] {
    const now = this.clock.now();
    const rows = this.store.db
      .prepare<[number], { username: string; role: Role; created_at: number; disabled_at: number | null; blocked_until: number | null }>(
        `SELECT u.username, u.role, u.created_at, u.disabled_at, f.blocked_until
         FROM users u LEFT JOIN login_failures f ON f.key = 'user:' || u.username AND f.blocked_until > ?
         ORDER BY u.username`,
      )
      .all(now);
    return rows.map((r) => ({
      username: r.username,
      role: r.role,
      state: r.disabled_at !== null ? 'disabled' : r.blocked_until ? 'blocked' : 'active',
      createdAt: new Date(r.created_at).toISOString(),
      disabledAt: r.disabled_at !== null ? new Date(r.disabled_at).toISOString() : null,
      blockedUntil: r.blocked_until ? new Date(r.blocked_until).toISOString() : null,
    }));
  }

  getUser(username: string): UserInfo {
    const u = this.listUsers().find((x) => x.username === username);
    if (!u) throw new DomainError(404, 'not_found', `No user ${username}.`);
    return u;
  }

  /**
   * A new password; the account's other sessions end (whoever knew the old password is out).
   * keepToken: the session that made the change, when someone changes their own password.
   */
  async setPassword(username: string, password: string, actor = 'system', keepToken?: string): Promise<void> {
    checkPassword(password);
    this.requireUser(username);
    const hash = await hashPassword(password);
    this.store.tx(() => {
      this.requireUser(username);
      this.store.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
      this.store.db.prepare('DELETE FROM sessions WHERE username = ? AND token_hash != ?').run(username, keepToken ? tokenHash(keepToken) : '');
      this.audit.append({ type: 'user.password_changed', actor, data: { username } });
    });
  }

  /** Refuses logins and ends every session of the account at once. Returns false when it already was disabled. */
  disable(username: string, actor = 'system'): boolean {
    if (actor === `staff:${username}`) throw new DomainError(409, 'cannot_disable_self', 'You cannot disable your own account.');
    return this.store.tx(() => {
      const u = this.requireUser(username);
      if (u.disabled_at !== null) return false;
      this.store.db.prepare('UPDATE users SET disabled_at = ? WHERE username = ?').run(this.clock.now(), username);
      this.store.db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
      this.audit.append({ type: 'user.disabled', actor, data: { username } });
      return true;
    });
  }

  /** Returns false when the account was not disabled. */
  enable(username: string, actor = 'system'): boolean {
    return this.store.tx(() => {
      const u = this.requireUser(username);
      if (u.disabled_at === null) return false;
      this.store.db.prepare('UPDATE users SET disabled_at = NULL WHERE username = ?').run(username);
      this.audit.append({ type: 'user.enabled', actor, data: { username } });
      return true;
    });
  }

  /** Lifts the block on the account's name after failed logins (and forgets those failures). */
  unlock(username: string, actor = 'system'): UnlockResult {
    return this.store.tx(() => {
      this.requireUser(username);
      const now = this.clock.now();
      const wasBlocked = this.blockedUntil(`user:${username}`, now) > 0;
      this.store.db.prepare('DELETE FROM login_failures WHERE key = ?').run(`user:${username}`);
      const ips = this.store.db
        .prepare<[number], { n: number; until: number | null }>("SELECT count(*) AS n, max(blocked_until) AS until FROM login_failures WHERE key LIKE 'ip:%' AND blocked_until > ?")
        .get(now)!;
      this.audit.append({ type: 'user.unlocked', actor, data: { username, wasBlocked } });
      return { wasBlocked, blockedAddresses: ips.n, addressesFreeAt: ips.until ? new Date(ips.until).toISOString() : null };
    });
  }

  private requireUser(username: string): { disabled_at: number | null } {
    const row = this.store.db.prepare<[string], { disabled_at: number | null }>('SELECT disabled_at FROM users WHERE username = ?').get(username);
    if (!row) throw new DomainError(404, 'not_found', `No user ${username}.`);
    return row;
  }

  async addUser(username: string, role: Role, password: string, actor = 'system'): Promise<void> {
    if (!new RegExp(USERNAME_PATTERN).test(username)) throw new DomainError(400, 'invalid_username', 'A username is 1-64 letters, digits, ".", "-" or "_".');
    if (!ROLES.includes(role)) throw new DomainError(400, 'invalid_role', `The role must be one of ${ROLES.join(', ')}.`);
    checkPassword(password);
    const hash = await hashPassword(password);
    this.store.tx(() => {
      const exists = this.store.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username);
      if (exists) throw new DomainError(409, 'user_exists', `User ${username} already exists.`);
      this.store.db.prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(username, role, hash, this.clock.now());
      this.audit.append({ type: 'user.created', actor, data: { username, role } });
    });
  }

  async login(username: string, password: string, ip: string): Promise<{ token: string; role: Role; expiresAt: string; expiresIn: number }> {
    // Counted and checked before the hash, in one synchronous step: see LoginGuard.
    const attempt = this.store.tx(() => this.guard.begin(username, ip));
    let user: { username: string; role: Role; password_hash: string; disabled_at: number | null } | undefined;
    let ok = false;
    try {
      user = this.store.db
        .prepare<[string], { username: string; role: Role; password_hash: string; disabled_at: number | null }>(
          'SELECT username, role, password_hash, disabled_at FROM users WHERE username = ?',
        )
        .get(username);
      ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    } catch (err) {
      this.store.tx(() => this.guard.abandoned(attempt));
      throw err;
    }
    const now = this.clock.now();
    // A disabled account is told so only to someone who knows its password; a wrong password
    // counts as a failure either way.
    if (user && ok && user.disabled_at !== null) {
      this.store.tx(() => {
        this.guard.succeeded(attempt);
        this.audit.append({ type: 'login.refused', actor: 'system', data: { username: user.username, reason: 'disabled' } });
      });
      throw new DomainError(401, 'account_disabled', 'This account is disabled. Ask an administrator.');
    }
    if (!user || !ok) {
      this.store.tx(() => {
        this.guard.failed(attempt);
        // An unknown name is often a password typed into the name field: it is not kept.
        this.audit.append({ type: 'login.failed', actor: 'system', data: user ? { username: user.username } : { unknownUser: true } });
      });
      throw new DomainError(401, 'invalid_credentials', 'Wrong username or password.');
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.sessionTtlMs;
    const known = user;
    this.store.tx(() => {
      this.guard.succeeded(attempt);
      this.store.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.store.db
        .prepare('INSERT INTO sessions (token_hash, username, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(tokenHash(token), known.username, known.role, now, expiresAt);
      this.audit.append({ type: 'login.succeeded', actor: `staff:${known.username}`, data: { role: known.role } });
    });
    // expiresIn lets a browser whose clock differs from the locker's keep the same deadline.
    return { token, role: known.role, expiresAt: new Date(expiresAt).toISOString(), expiresIn: Math.floor(this.sessionTtlMs / 1000) };
  }

  authenticate(token: string): Principal | null {
    const row = this.selectSession.get(tokenHash(token), this.clock.now());
    return row ?? null;
  }

  logout(token: string): void {
    this.store.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash(token));
  }

  private blockedUntil(key: string, now: number): number {
    const row = this.store.db.prepare<[string], { blocked_until: number }>('SELECT blocked_until FROM login_failures WHERE key = ?').get(key);
    return row && row.blocked_until > now ? row.blocked_until : 0;
  }
}

/** The locker keeps its login counters in SQLite, so a restart resets no block. */
function sqliteLoginCounters(store: Store): LoginCounterStore {
  const select = store.db.prepare<[string], { count: number; first_at: number; blocked_until: number }>(
    'SELECT count, first_at, blocked_until FROM login_failures WHERE key = ?',
  );
  const upsert = store.db.prepare(
    `INSERT INTO login_failures (key, count, first_at, blocked_until) VALUES (?, ?, ?, ?)
     ON CONFLICT(key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at, blocked_until = excluded.blocked_until`,
  );
  const remove = store.db.prepare('DELETE FROM login_failures WHERE key = ?');
  return {
    get(key) {
      const r = select.get(key);
      return r ? { count: r.count, firstAt: r.first_at, blockedUntil: r.blocked_until } : undefined;
    },
    put(key, c) {
      upsert.run(key, c.count, c.firstAt, c.blockedUntil);
    },
    delete(key) {
      remove.run(key);
    },
  };
}
