// Staff, auditor and admin accounts; bearer sessions; login throttling kept in the database.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import { DomainError } from './errors.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import type { Clock } from './ports.ts';

export const ROLES = ['staff', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  username: string;
  role: Role;
}

export const USERNAME_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
export const MIN_PASSWORD = 8;

const USER_FAILURES = 5;
const IP_FAILURES = 20;
const FAILURE_WINDOW_MS = 15 * 60_000;
const BLOCK_MS = 15 * 60_000;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class AuthService {
  // Every staff request checks its token: prepared once, not per request.
  private readonly selectSession;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {
    this.selectSession = store.db.prepare<[string, number], Principal>('SELECT username, role FROM sessions WHERE token_hash = ? AND expires_at > ?');
  }

  async addUser(username: string, role: Role, password: string, actor = 'system'): Promise<void> {
    if (!new RegExp(USERNAME_PATTERN).test(username)) throw new DomainError(400, 'invalid_username', 'A username is 1-64 letters, digits, ".", "-" or "_".');
    if (!ROLES.includes(role)) throw new DomainError(400, 'invalid_role', `The role must be one of ${ROLES.join(', ')}.`);
    if (password.length < MIN_PASSWORD) throw new DomainError(400, 'weak_password', `A password has at least ${MIN_PASSWORD} characters.`);
    const hash = await hashPassword(password);
    this.store.tx(() => {
      const exists = this.store.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username);
      if (exists) throw new DomainError(409, 'user_exists', `User ${username} already exists.`);
      this.store.db.prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(username, role, hash, this.clock.now());
      this.audit.append({ type: 'user.created', actor, data: { username, role } });
    });
  }

  async login(username: string, password: string, ip: string): Promise<{ token: string; role: Role; expiresAt: string; expiresIn: number }> {
    const now = this.clock.now();
    const keys = [`user:${username}`, `ip:${ip}`];
    const blockedUntil = Math.max(...keys.map((k) => this.blockedUntil(k, now)));
    if (blockedUntil > now) {
      const wait = Math.ceil((blockedUntil - now) / 1000);
      throw new DomainError(429, 'throttled', `Too many failed logins. Try again in ${wait} seconds.`, { 'retry-after': String(wait) });
    }
    const user = this.store.db
      .prepare<[string], { username: string; role: Role; password_hash: string }>('SELECT username, role, password_hash FROM users WHERE username = ?')
      .get(username);
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) {
      this.store.tx(() => {
        this.noteFailure(keys[0], USER_FAILURES, now);
        this.noteFailure(keys[1], IP_FAILURES, now);
        this.audit.append({ type: 'login.failed', actor: 'system', data: { username: username.slice(0, 64) } });
      });
      throw new DomainError(401, 'invalid_credentials', 'Wrong username or password.');
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.sessionTtlMs;
    this.store.tx(() => {
      this.store.db.prepare('DELETE FROM login_failures WHERE key = ?').run(keys[0]);
      this.store.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.store.db
        .prepare('INSERT INTO sessions (token_hash, username, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(tokenHash(token), user.username, user.role, now, expiresAt);
      this.audit.append({ type: 'login.succeeded', actor: `staff:${user.username}`, data: { role: user.role } });
    });
    // expiresIn lets a browser whose clock differs from the locker's keep the same deadline.
    return { token, role: user.role, expiresAt: new Date(expiresAt).toISOString(), expiresIn: Math.floor(this.sessionTtlMs / 1000) };
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

  private noteFailure(key: string, limit: number, now: number): void {
    const db = this.store.db;
    const row = db.prepare<[string], { count: number; first_at: number }>('SELECT count, first_at FROM login_failures WHERE key = ?').get(key);
    const fresh = !row || now - row.first_at > FAILURE_WINDOW_MS;
    const count = fresh ? 1 : row.count + 1;
    const firstAt = fresh ? now : row.first_at;
    const blocked = count >= limit ? now + BLOCK_MS : 0;
    db.prepare(
      `INSERT INTO login_failures (key, count, first_at, blocked_until) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at, blocked_until = excluded.blocked_until`,
    ).run(key, count, firstAt, blocked);
  }
}
