// `npx locker ...`: administration from the command line, on the same data dir as the service.
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, configSource, loadConfig } from '../config/load.ts';
import { DB_FILE, databaseExists, openDatabase } from '../db/database.ts';
import { Store } from '../db/store.ts';
import { AuditLog } from '../domain/audit-log.ts';
import { AuthService, ROLES, type Role } from '../domain/auth-service.ts';
import { DomainError } from '../domain/errors.ts';
import { systemClock } from '../domain/ports.ts';
import { HW_USAGE, runHwCli } from './hw.ts';
import { BACKUP_USAGE, runBackup } from './backup.ts';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

const USAGE = `usage:
  locker user add <username> --role staff|auditor|admin --password-stdin [--init]
  locker user list
  locker user passwd <username> --password-stdin
  locker user disable <username>     (login refused, its sessions end at once)
  locker user enable <username>
  locker user unlock <username>      (lifts the block after failed logins)
  locker audit verify
  locker central                    (the central audit service; see server/central/README.md)
  locker central user add <username> --role auditor|admin --password-stdin
${HW_USAGE}${BACKUP_USAGE}
`;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Without a database in the data dir this is almost always the wrong dir (LOCKER_DATA_DIR unset or
 * mistyped): creating one there would report success for changes the running service never sees.
 * `init` says a new database is wanted.
 */
class NoDatabaseError extends Error {}

function openTrail(opts: { init?: boolean; initHint?: boolean } = {}) {
  const config = loadConfig(configSource());
  if (!opts.init && !databaseExists(config.dataDir)) {
    throw new NoDatabaseError(
      `no locker database in ${config.dataDir} (no ${DB_FILE}): set LOCKER_DATA_DIR to the data dir of the service` +
        (opts.initHint ? ', or pass --init to create a new database there' : ' (it makes its database on its first start)'),
    );
  }
  const created = !databaseExists(config.dataDir);
  const db = openDatabase(config.dataDir);
  const store = new Store(db);
  return { config, db, store, created, audit: new AuditLog(store, systemClock) };
}

/** Runs fn on the locker's accounts; the database is closed afterwards whatever happens. */
async function withAuth<T>(fn: (auth: AuthService) => T | Promise<T>, opts: { init?: boolean; initHint?: boolean } = {}): Promise<{ result: T; created: boolean; dataDir: string }> {
  const { db, store, audit, created, config } = openTrail(opts);
  try {
    return { result: await fn(new AuthService(store, audit, systemClock, 0)), created, dataDir: config.dataDir };
  } finally {
    db.close();
  }
}

const USER_ACTIONS = new Set(['add', 'list', 'passwd', 'disable', 'enable', 'unlock']);

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const fail = (s: string) => {
    io.stderr.write(`locker: ${s}\n`);
    return 1;
  };
  const [group, action, ...rest] = argv;
  try {
    if (group === 'user' && USER_ACTIONS.has(action)) {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          role: { type: 'string' },
          'password-stdin': { type: 'boolean' },
          init: { type: 'boolean' },
        },
      });
      if (action !== 'add' && values.role !== undefined) return fail(`--role is only for user add\n${USAGE}`);
      if (action !== 'add' && values.init) return fail(`--init is only for user add: the other commands need the service's database\n${USAGE}`);
      if (action !== 'add' && action !== 'passwd' && values['password-stdin']) return fail(`--password-stdin is only for user add and user passwd\n${USAGE}`);
      if (action === 'list') {
        if (positionals.length > 0) return fail(`user list takes no arguments\n${USAGE}`);
        const { result: users } = await withAuth((auth) => auth.listUsers());
        if (users.length === 0) say('no users yet: add one with `locker user add <username> --role admin --password-stdin`');
        const width = Math.max(4, ...users.map((u) => u.username.length));
        for (const u of users) {
          const state = u.state === 'disabled' ? `disabled since ${u.disabledAt}` : u.state === 'blocked' ? `blocked until ${u.blockedUntil}` : 'active';
          say(`${u.username.padEnd(width)}  ${u.role.padEnd(7)}  ${state}`);
        }
        return 0;
      }
      const username = positionals[0];
      if (!username || positionals.length > 1) return fail(`user ${action} takes one username\n${USAGE}`);
      if (action === 'add' || action === 'passwd') {
        if (action === 'add' && (!values.role || !ROLES.includes(values.role as Role))) return fail(`--role must be one of ${ROLES.join(', ')}`);
        if (!values['password-stdin']) return fail('the password is read from standard input: pass --password-stdin');
        const password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
        if (action === 'passwd') {
          await withAuth((auth) => auth.setPassword(username, password, 'system'));
          say(`password of ${username} changed; its sessions have ended`);
          return 0;
        }
        const { created, dataDir } = await withAuth((auth) => auth.addUser(username, values.role as Role, password, 'system'), { init: values.init, initHint: true });
        if (created) say(`new locker database created in ${dataDir}`);
        say(`user ${username} added with role ${values.role}`);
        return 0;
      }
      if (action === 'disable') {
        const { result: changed } = await withAuth((auth) => auth.disable(username, 'system'));
        say(changed ? `user ${username} disabled: logins refused, its sessions ended` : `user ${username} was already disabled`);
        return 0;
      }
      if (action === 'enable') {
        const { result: changed } = await withAuth((auth) => auth.enable(username, 'system'));
        say(changed ? `user ${username} enabled` : `user ${username} was not disabled`);
        return 0;
      }
      const { result: r } = await withAuth((auth) => auth.unlock(username, 'system'));
      say(r.wasBlocked ? `user ${username} unlocked: it can log in again` : `user ${username} was not blocked`);
      say(
        r.blockedAddresses > 0
          ? `note: login blocks on network addresses are left in place (${r.blockedAddresses} address(es) blocked, the last until ${r.addressesFreeAt}); they lift by themselves`
          : 'note: no network address is blocked (blocks on addresses are never lifted by unlock)',
      );
      return 0;
    }
    if (group === 'audit' && action === 'verify' && rest.length === 0) {
      const { db, audit } = openTrail();
      try {
        const r = audit.verify();
        if (r.ok) {
          say(`audit chain ok: ${r.count} events, head ${r.head}`);
          say(
            r.anchored.seq === 0
              ? `anchored: nothing yet (no event acknowledged by the broker); ${r.unconfirmed} events not yet confirmed centrally`
              : `anchored up to seq ${r.anchored.seq} (${r.anchored.hash}, acknowledged ${r.anchored.at}); ${r.unconfirmed} events not yet confirmed centrally`,
          );
          return 0;
        }
        io.stderr.write(`audit chain BROKEN at seq ${r.brokenAt}: ${r.reason} (${r.count} events verified before it)\n`);
        return 2;
      } finally {
        db.close();
      }
    }
    if (group === 'hw') return await runHwCli(argv.slice(1), io);
    if (group === 'backup') return await runBackup(argv.slice(1), io);
    // Loaded on demand: the locker's own commands need none of the central service's code.
    if (group === 'central') return await (await import('../central/cli.ts')).runCentralCli(argv.slice(1), io);
    if (group === undefined || group === 'help' || group === '--help') {
      say(USAGE.trimEnd());
      return group === undefined ? 1 : 0;
    }
    return fail(`unknown command "${argv.join(' ')}"\n${USAGE}`);
  } catch (err) {
    if (err instanceof DomainError || err instanceof ConfigError || err instanceof NoDatabaseError) return fail(err.message);
    if (err instanceof Error && err.name === 'TypeError' && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) return fail(`${err.message}\n${USAGE}`);
    throw err;
  }
}
