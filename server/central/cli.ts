// `npx locker central ...`: with no arguments it runs the service; `central user add` creates an
// auditor or admin account in the central database (the password is read from standard input).
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError } from '../config/load.ts';
import { DomainError } from '../domain/errors.ts';
import { systemClock } from '../domain/ports.ts';
import { createLogger } from '../logger.ts';
import { CENTRAL_ROLES, CentralAuth, type CentralRole } from './auth.ts';
import { loadCentralConfig } from './config.ts';
import { openCentralDb } from './db/open.ts';

export interface CentralCliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export const CENTRAL_USAGE = `  locker central                       runs the central audit service (CENTRAL_* variables)
  locker central user add <username> --role auditor|admin --password-stdin`;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCentralCli(argv: string[], io: CentralCliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fail = (s: string) => {
    io.stderr.write(`locker central: ${s}\n`);
    return 1;
  };
  try {
    if (argv.length === 0) {
      const { runCentral } = await import('./main.ts');
      return await runCentral(io, env);
    }
    const [group, action, ...rest] = argv;
    if (group === 'user' && action === 'add') {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } } });
      const username = positionals[0];
      if (!username || positionals.length > 1) return fail(`user add takes one username\nusage:\n${CENTRAL_USAGE}`);
      if (!values.role || !CENTRAL_ROLES.includes(values.role as CentralRole)) return fail(`--role must be one of ${CENTRAL_ROLES.join(', ')}`);
      if (!values['password-stdin']) return fail('the password is read from standard input: pass --password-stdin');
      const password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
      const config = loadCentralConfig(env, { requireMqtt: false });
      const db = await openCentralDb(config);
      try {
        await new CentralAuth(db, systemClock, 0, createLogger('silent')).addUser(username, values.role as CentralRole, password);
      } finally {
        await db.close();
      }
      io.stdout.write(`central user ${username} added with role ${values.role}\n`);
      return 0;
    }
    return fail(`unknown command "central ${argv.join(' ')}"\nusage:\n${CENTRAL_USAGE}`);
  } catch (err) {
    if (err instanceof DomainError || err instanceof ConfigError) return fail(err.message);
    if (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) return fail(`${err.message}\nusage:\n${CENTRAL_USAGE}`);
    throw err;
  }
}
