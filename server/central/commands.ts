// Commands from the central office to a locker (contract "MQTT": `B/L/request/<command>`,
// answered on `B/L/response/<command>`). The payload is checked here against the same schemas
// the locker uses (server/mqtt/commands.ts), so bad input is a 400 and never reaches a locker.
// Every command is recorded with who sent it and, once it comes, the locker's answer. A
// transaction id may be sent again (a retry): the locker applies it once and repeats its answer.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { DomainError } from '../domain/errors.ts';
import { canonicalJson } from '../domain/jcs.ts';
import type { Clock } from '../domain/ports.ts';
import { CommandSchemas } from '../mqtt/commands.ts';
import type { CentralDb } from './db/sql.ts';
import { LockerState } from './event-schema.ts';
import type { Ingestor } from './ingest.ts';

export const CENTRAL_COMMANDS = Object.keys(CommandSchemas) as (keyof typeof CommandSchemas)[];
const checks = new Map(Object.entries(CommandSchemas).map(([k, s]) => [k, Compile(s as TSchema)]));
const checkState = Compile(LockerState);

export interface CommandResult {
  transaction: string;
  locker: string;
  command: string;
  status: 'ok' | 'error' | 'pending';
  data?: unknown;
  error?: { code: string; message: string };
  requestedBy: string;
  requestedAt: string;
  answeredAt: string | null;
}

export interface CommandPort {
  readonly connected: boolean;
  publish(topic: string, payload: string): Promise<void>;
  request(locker: string, command: string): string;
}

interface Row {
  txn: string;
  locker: string;
  command: string;
  payload: string;
  requested_by: string;
  requested_at: number;
  status: 'sent' | 'ok' | 'error';
  response: string | null;
  answered_at: number | null;
}

const toResult = (r: Row): CommandResult => {
  const response = r.response ? (JSON.parse(r.response) as { data?: unknown; error?: { code: string; message: string } }) : null;
  return {
    transaction: r.txn,
    locker: r.locker,
    command: r.command,
    status: r.status === 'sent' ? 'pending' : r.status,
    ...(response?.data !== undefined ? { data: response.data } : {}),
    ...(response?.error !== undefined ? { error: response.error } : {}),
    requestedBy: r.requested_by,
    requestedAt: new Date(r.requested_at).toISOString(),
    answeredAt: r.answered_at === null ? null : new Date(r.answered_at).toISOString(),
  };
};

export class CommandSender {
  private readonly waiting = new Map<string, () => void>();
  private port: CommandPort | null = null;

  constructor(
    private readonly db: CentralDb,
    private readonly ingest: Ingestor,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  attach(port: CommandPort): void {
    this.port = port;
  }

  /** Sends a command and waits (up to the timeout) for the locker's answer. */
  async send(locker: string, command: string, args: Record<string, unknown>, by: string, transaction?: string): Promise<CommandResult> {
    const { txn, payload, answered } = await this.record(locker, command, args, by, transaction);
    if (answered) return answered;
    const reply = new Promise<void>((resolve) => this.waiting.set(txn, resolve));
    try {
      await this.port!.publish(this.port!.request(locker, command), payload);
      this.log.info({ locker, command, transaction: txn, by }, 'command sent');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reply, new Promise<void>((r) => (timer = setTimeout(r, this.timeoutMs)))]);
      clearTimeout(timer);
    } catch (err) {
      this.log.warn({ locker, command, transaction: txn, err: (err as Error).message }, 'command not published yet');
    } finally {
      this.waiting.delete(txn);
    }
    return (await this.get(txn))!;
  }

  /** Sends a command without waiting; the answer is recorded when it comes. Resolves with the transaction. */
  async dispatch(locker: string, command: string, args: Record<string, unknown>, by: string): Promise<string> {
    const { txn, payload } = await this.record(locker, command, args, by);
    this.port!.publish(this.port!.request(locker, command), payload).then(
      () => this.log.info({ locker, command, transaction: txn, by }, 'command sent'),
      (err: Error) => this.log.warn({ locker, command, transaction: txn, err: err.message }, 'command not published yet'),
    );
    return txn;
  }

  /** Checks the command, records it (or finds the same transaction recorded before). */
  private async record(locker: string, command: string, args: Record<string, unknown>, by: string, transaction?: string) {
    const check = checks.get(command);
    if (!check) throw new DomainError(400, 'unknown_command', `Unknown command "${command}"; known: ${CENTRAL_COMMANDS.join(', ')}.`);
    if (Object.hasOwn(args, 'transaction')) throw new DomainError(400, 'invalid_request', 'Give the transaction as "transaction" next to "command", not in "args".');
    const txn = transaction ?? `central-${randomUUID()}`;
    const body = { ...args, transaction: txn };
    if (!check.Check(body)) {
      const first = check.Errors(body)[0];
      const field = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(args)';
      throw new DomainError(400, 'invalid_request', `${field}: ${first?.message ?? 'invalid'}`);
    }
    const known = await this.db.get<{ id: string }>('SELECT id FROM lockers WHERE id = :locker', { locker });
    if (!known) throw new DomainError(404, 'not_found', `Locker ${locker} has never been heard of.`);
    if (!this.port) throw new DomainError(503, 'mqtt_unavailable', 'The service has no broker connection.');
    const payload = canonicalJson(body);
    const inserted = await this.db.run(
      `INSERT INTO commands (txn, locker, command, payload, requested_by, requested_at, status)
       VALUES (:txn, :locker, :command, :payload, :by, :now, 'sent') ON CONFLICT (txn) DO NOTHING`,
      { txn, locker, command, payload, by, now: this.clock.now() },
    );
    let answered: CommandResult | null = null;
    if (inserted === 0) {
      const prior = (await this.db.get<Row>('SELECT * FROM commands WHERE txn = :txn', { txn }))!;
      if (prior.locker !== locker || prior.command !== command || prior.payload !== payload) {
        throw new DomainError(409, 'transaction_conflict', `Transaction ${txn} was already used for a different command.`);
      }
      if (prior.status !== 'sent') answered = toResult(prior);
    }
    return { txn, payload, answered };
  }

  async get(txn: string): Promise<CommandResult | null> {
    const row = await this.db.get<Row>('SELECT * FROM commands WHERE txn = :txn', { txn });
    return row ? toResult(row) : null;
  }

  async list(locker: string, limit = 100): Promise<CommandResult[]> {
    const rows = await this.db.all<Row>('SELECT * FROM commands WHERE locker = :locker ORDER BY requested_at DESC LIMIT :limit', { locker, limit });
    return rows.map(toResult);
  }

  /** An answer on `B/L/response/<command>`: stored if it answers one of ours; a state snapshot is applied. */
  async onResponse(locker: string, command: string, payload: Buffer): Promise<void> {
    let body: { transaction?: unknown; status?: unknown; data?: unknown; error?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (!body || typeof body !== 'object' || typeof body.transaction !== 'string') return;
    const status = body.status === 'ok' ? 'ok' : body.status === 'error' ? 'error' : null;
    if (!status) return;
    const txn = body.transaction;
    const response = JSON.stringify({ ...(body.data !== undefined ? { data: body.data } : {}), ...(body.error !== undefined ? { error: body.error } : {}) });
    const updated = await this.db.run(
      `UPDATE commands SET status = :status, response = :response, answered_at = :now
       WHERE txn = :txn AND locker = :locker AND command = :command AND status = 'sent'`,
      { status, response, now: this.clock.now(), txn, locker, command },
    );
    if (command === 'state/get' && status === 'ok' && updated > 0 && checkState.Check(body.data)) {
      await this.ingest.applyState(locker, body.data as Parameters<Ingestor['applyState']>[1]);
    }
    if (updated > 0) this.log.info({ locker, command, transaction: txn, status }, 'command answered');
    this.waiting.get(txn)?.();
  }
}
