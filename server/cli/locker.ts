// `npx locker ...`: administration from the command line, on the same data dir as the service.
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, configSource, loadConfig } from '../config/load.ts';
import { openDatabase } from '../db/database.ts';
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
  locker user add <username> --role staff|auditor|admin --password-stdin
  locker audit verify
  locker central                    (the central audit service; see README "Central audit service")
  locker central user add <username> --role auditor|admin --password-stdin
${HW_USAGE}${BACKUP_USAGE}
`;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

function openTrail() {
  const config = loadConfig(configSource());
  const db = openDatabase(config.dataDir);
  const store = new Store(db);
  return { config, db, store, audit: new AuditLog(store, systemClock) };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const fail = (s: string) => {
    io.stderr.write(`locker: ${s}\n`);
    return 1;
  };
  const [group, action, ...rest] = argv;
  try {
    if (group === 'user' && action === 'add') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      });
      const username = positionals[0];
      if (!username || positionals.length > 1) return fail(`user add takes one username\n${USAGE}`);
      if (!values.role || !ROLES.includes(values.role as Role)) return fail(`--role must be one of ${ROLES.join(', ')}`);
      if (!values['password-stdin']) return fail('the password is read from standard input: pass --password-stdin');
      const password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
      const { db, store, audit } = openTrail();
      try {
        await new AuthService(store, audit, systemClock, 0).addUser(username, values.role as Role, password, 'system');
      } finally {
        db.close();
      }
      say(`user ${username} added with role ${values.role}`);
      return 0;
    }
    if (group === 'audit' && action === 'verify' && rest.length === 0) {
      const { db, audit } = openTrail();
      try {
        const r = audit.verify();
        if (r.ok) {
          say(`audit chain ok: ${r.count} events, head ${r.head}`);
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
    if (err instanceof DomainError || err instanceof ConfigError) return fail(err.message);
    if (err instanceof Error && err.name === 'TypeError' && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) return fail(`${err.message}\n${USAGE}`);
    throw err;
  }
}
