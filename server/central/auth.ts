// Auditor and admin accounts of the central office, bearer sessions and login throttling, kept
// in the central database. Same rules as the locker's AuthService (server/domain/auth-service.ts),
// over the async database interface so they hold on PostgreSQL too.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { MIN_PASSWORD, USERNAME_PATTERN } from '../domain/auth-service.ts';
import { DomainError } from '../domain/errors.ts';
import { LOGIN_LIMITS, LoginGuard, ipKey, userKey, type LoginLimits } from '../domain/login-guard.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../domain/passwords.ts';
import { CachedLoginCounters } from './login-counters.ts';
import type { Clock } from '../domain/ports.ts';
import type { CentralDb } from './db/sql.ts';

export const CENTRAL_ROLES = ['auditor', 'admin'] as const;
export type CentralRole = (typeof CENTRAL_ROLES)[number];

export interface CentralPrincipal {
  username: string;
  role: CentralRole;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class CentralAuth {
  private readonly counters: CachedLoginCounters;
  private readonly guard: LoginGuard;

  constructor(
    private readonly db: CentralDb,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    private readonly log: Logger,
    limits: LoginLimits = LOGIN_LIMITS,
  ) {
    this.counters = new CachedLoginCounters(db, clock, limits, log);
    this.guard = new LoginGuard(this.counters, clock, limits);
  }

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
    // What another instance or an earlier run wrote about these keys, before the synchronous step.
    await this.counters.load([userKey(username), ipKey(ip)]);
    const attempt = this.guard.begin(username, ip);
    let user: { username: string; role: CentralRole; password_hash: string } | undefined;
    let ok = false;
    try {
      user = await this.db.get<{ username: string; role: CentralRole; password_hash: string }>(
        'SELECT username, role, password_hash FROM users WHERE username = :username',
        { username },
      );
      ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    } catch (err) {
      this.guard.abandoned(attempt);
      throw err;
    }
    if (!user || !ok) {
      this.guard.failed(attempt);
      // An unknown name is often a password typed into the name field: it is not logged.
      this.log.info(user ? { username: user.username } : { unknownUser: true }, 'login failed');
      throw new DomainError(401, 'invalid_credentials', 'Wrong username or password.');
    }
    this.guard.succeeded(attempt);
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.sessionTtlMs;
    await this.counters.flushed();
    await this.db.tx(async (q) => {
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
