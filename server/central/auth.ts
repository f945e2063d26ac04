// Auditor and admin accounts of the central office, bearer sessions and login throttling, kept
// in the central database. Same rules as the locker's AuthService (server/domain/auth-service.ts),
// over the async database interface so they hold on PostgreSQL too.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { MIN_PASSWORD, USERNAME_PATTERN } from '../domain/auth-service.ts';
import { DomainError } from '../domain/errors.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../domain/passwords.ts';
import type { Clock } from '../domain/ports.ts';
import type { CentralDb, Sql } from './db/sql.ts';

export const CENTRAL_ROLES = ['auditor', 'admin'] as const;
export type CentralRole = (typeof CENTRAL_ROLES)[number];

export interface CentralPrincipal {
  username: string;
  role: CentralRole;
}

const USER_FAILURES = 5;
const IP_FAILURES = 20;
const FAILURE_WINDOW_MS = 15 * 60_000;
const BLOCK_MS = 15 * 60_000;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class CentralAuth {
  constructor(
    private readonly db: CentralDb,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    private readonly log: Logger,
  ) {}

  async addUser(username: string, role: CentralRole, password: string): Promise<void> {
    if (!new RegExp(USERNAME_PATTERN).test(username)) throw new DomainError(400, 'invalid_username', 'A username is 1-64 letters, digits, ".", "-" or "_".');
    if (!CENTRAL_ROLES.includes(role)) throw new DomainError(400, 'invalid_role', `The role must be one of ${CENTRAL_ROLES.join(', ')}.`);
    if (password.length < MIN_PASSWORD) throw new DomainError(400, 'weak_password', `A password has at least ${MIN_PASSWORD} characters.`);
    const hash = await hashPassword(password);
    const added = await this.db.run(
      'INSERT INTO users (username, role, password_hash, created_at) VALUES (:username, :role, :hash, :now) ON CONFLICT (username) DO NOTHING',
      { username, role, hash, now: this.clock.now() },
    );
    if (added === 0) throw new DomainError(409, 'user_exists', `User ${username} already exists.`);
    this.log.info({ username, role }, 'user added');
  }

  async login(username: string, password: string, ip: string): Promise<{ token: string; role: CentralRole; expiresAt: string }> {
    const now = this.clock.now();
    const keys = [`user:${username}`, `ip:${ip}`];
    const blocked = await this.db.all<{ blocked_until: number }>(
      'SELECT blocked_until FROM login_failures WHERE key IN (:a, :b) AND blocked_until > :now',
      { a: keys[0], b: keys[1], now },
    );
    if (blocked.length > 0) {
      const wait = Math.ceil((Math.max(...blocked.map((b) => b.blocked_until)) - now) / 1000);
      throw new DomainError(429, 'throttled', `Too many failed logins. Try again in ${wait} seconds.`, { 'retry-after': String(wait) });
    }
    const user = await this.db.get<{ username: string; role: CentralRole; password_hash: string }>(
      'SELECT username, role, password_hash FROM users WHERE username = :username',
      { username },
    );
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) {
      await this.db.tx(async (q) => {
        await noteFailure(q, keys[0], USER_FAILURES, now);
        await noteFailure(q, keys[1], IP_FAILURES, now);
      });
      this.log.info({ username: username.slice(0, 64) }, 'login failed');
      throw new DomainError(401, 'invalid_credentials', 'Wrong username or password.');
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.sessionTtlMs;
    await this.db.tx(async (q) => {
      await q.run('DELETE FROM login_failures WHERE key = :key', { key: keys[0] });
      await q.run('DELETE FROM sessions WHERE expires_at <= :now', { now });
      await q.run(
        'INSERT INTO sessions (token_hash, username, role, created_at, expires_at) VALUES (:th, :username, :role, :now, :exp)',
        { th: tokenHash(token), username: user.username, role: user.role, now, exp: expiresAt },
      );
    });
    this.log.info({ username: user.username, role: user.role }, 'login');
    return { token, role: user.role, expiresAt: new Date(expiresAt).toISOString() };
  }

  async authenticate(token: string): Promise<CentralPrincipal | null> {
    const row = await this.db.get<CentralPrincipal>('SELECT username, role FROM sessions WHERE token_hash = :th AND expires_at > :now', {
      th: tokenHash(token),
      now: this.clock.now(),
    });
    return row ?? null;
  }

  async logout(token: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE token_hash = :th', { th: tokenHash(token) });
  }
}

async function noteFailure(q: Sql, key: string, limit: number, now: number): Promise<void> {
  const row = await q.get<{ count: number; first_at: number }>('SELECT count, first_at FROM login_failures WHERE key = :key', { key });
  const fresh = !row || now - row.first_at > FAILURE_WINDOW_MS;
  const count = fresh ? 1 : row.count + 1;
  const firstAt = fresh ? now : row.first_at;
  const blocked = count >= limit ? now + BLOCK_MS : 0;
  await q.run(
    `INSERT INTO login_failures (key, count, first_at, blocked_until) VALUES (:key, :count, :first, :blocked)
     ON CONFLICT (key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at, blocked_until = excluded.blocked_until`,
    { key, count, first: firstAt, blocked },
  );
}
