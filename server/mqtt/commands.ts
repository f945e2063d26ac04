// Commands from the central office: `B/L/request/<command>` -> `B/L/response/<command>`.
// Every payload is checked against its schema first; anything invalid or unknown is answered
// with an error and changes nothing. A command that changes state is applied at most once per
// transaction id: a repeat (the central office retrying, or the broker redelivering after a
// restart) gets the stored answer again, marked `duplicate: true`.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Store } from '../db/store.ts';
import type { CompartmentAdmin } from '../domain/compartment-admin.ts';
import type { DossierService } from '../domain/dossier-service.ts';
import { DOSSIER_CODE_PATTERN } from '../domain/dossier-rules.ts';
import { DomainError } from '../domain/errors.ts';
import { canonicalJson } from '../domain/jcs.ts';
import type { Clock } from '../domain/ports.ts';
import type { StateSnapshot } from './state-publisher.ts';
import { TransactionLog } from './transactions.ts';

export const ACTOR = 'central';
const MAX_PAYLOAD_BYTES = 16 * 1024;

export interface CommandResponse {
  transaction: string | null;
  status: 'ok' | 'error';
  data?: unknown;
  error?: { code: string; message: string };
  duplicate?: true;
}

export interface CommandDeps {
  store: Store;
  compartmentAdmin: CompartmentAdmin;
  dossiers: DossierService;
  snapshot: () => StateSnapshot;
  /** Puts already published events back into the outbox, for a consumer that lost them. */
  republish: (from: number, to: number) => { queued: number };
  clock: Clock;
  log: Logger;
}

const Transaction = Type.String({ minLength: 1, maxLength: 128 });
const Reason = Type.String({ minLength: 1, maxLength: 200 });
const CompartmentNumber = Type.Integer({ minimum: 1, maximum: 999_999 });
const Seq = Type.Integer({ minimum: 1 });
export const MAX_REPUBLISH = 10_000;

export const CommandSchemas = {
  'state/get': Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  'compartment/disable': Type.Object(
    { transaction: Transaction, number: CompartmentNumber, reason: Type.Optional(Reason) },
    { additionalProperties: false },
  ),
  'compartment/enable': Type.Object({ transaction: Transaction, number: CompartmentNumber }, { additionalProperties: false }),
  'dossier/cancel': Type.Object(
    { transaction: Transaction, code: Type.String({ pattern: DOSSIER_CODE_PATTERN }), reason: Type.Optional(Reason) },
    { additionalProperties: false },
  ),
  'events/republish': Type.Object({ transaction: Transaction, from: Seq, to: Seq }, { additionalProperties: false }),
};

type Name = keyof typeof CommandSchemas;

interface Spec<T extends TSchema> {
  check: ReturnType<typeof Compile<T>>;
  /** Read-only commands are simply answered again on a repeat. */
  changes: boolean;
  run(d: CommandDeps, body: Static<T>): unknown;
}

function spec<T extends TSchema>(schema: T, changes: boolean, run: (d: CommandDeps, body: Static<T>) => unknown): Spec<T> {
  return { check: Compile(schema), changes, run };
}

const SPECS: { [K in Name]: Spec<(typeof CommandSchemas)[K]> } = {
  'state/get': spec(CommandSchemas['state/get'], false, (d) => d.snapshot()),
  'compartment/disable': spec(CommandSchemas['compartment/disable'], true, (d, b) => d.compartmentAdmin.disable(ACTOR, b.number, b.reason)),
  'compartment/enable': spec(CommandSchemas['compartment/enable'], true, (d, b) => d.compartmentAdmin.enable(ACTOR, b.number)),
  'dossier/cancel': spec(CommandSchemas['dossier/cancel'], true, (d, b) => d.dossiers.cancel(ACTOR, b.code, b.reason)),
  'events/republish': spec(CommandSchemas['events/republish'], true, (d, b) => {
    if (b.to < b.from || b.to - b.from >= MAX_REPUBLISH) {
      throw new DomainError(400, 'invalid_range', `"from" must not exceed "to", and at most ${MAX_REPUBLISH} events per request.`);
    }
    return { from: b.from, to: b.to, ...d.republish(b.from, b.to) };
  }),
};

export const COMMANDS = Object.keys(SPECS) as Name[];

const fail = (transaction: string | null, code: string, message: string): CommandResponse => ({
  transaction,
  status: 'error',
  error: { code, message },
});

export class CommandHandler {
  private readonly log: TransactionLog;

  constructor(private readonly d: CommandDeps) {
    this.log = new TransactionLog(d.store);
  }

  prune(): number {
    return this.d.store.tx(() => this.log.prune(this.d.clock.now()));
  }

  handle(command: string, payload: Buffer): CommandResponse {
    if (payload.length > MAX_PAYLOAD_BYTES) return fail(null, 'invalid_payload', `The payload exceeds ${MAX_PAYLOAD_BYTES} bytes.`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return fail(null, 'invalid_payload', 'The payload is not JSON.');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return fail(null, 'invalid_payload', 'The payload must be a JSON object with a "transaction".');
    }
    const raw = (body as { transaction?: unknown }).transaction;
    const transaction = typeof raw === 'string' && raw.length >= 1 && raw.length <= 128 ? raw : null;
    if (transaction === null) return fail(null, 'invalid_payload', '"transaction" must be a string of 1-128 characters.');
    if (!Object.hasOwn(SPECS, command)) {
      return fail(transaction, 'unknown_command', `Unknown command "${command}"; known: ${COMMANDS.join(', ')}.`);
    }
    const s = SPECS[command as Name] as Spec<TSchema>;
    if (!s.check.Check(body)) {
      const first = s.check.Errors(body)[0];
      const field = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(payload)';
      return fail(transaction, 'invalid_payload', `${field}: ${first?.message ?? 'invalid'}`);
    }
    if (!s.changes) return this.run(s, transaction, body);
    return this.applyOnce(command, s, transaction, body);
  }

  private run(s: Spec<TSchema>, transaction: string, body: unknown): CommandResponse {
    try {
      return { transaction, status: 'ok', data: s.run(this.d, body) };
    } catch (err) {
      return this.failure(transaction, err);
    }
  }

  private applyOnce(command: string, s: Spec<TSchema>, transaction: string, body: unknown): CommandResponse {
    const requestHash = createHash('sha256').update(canonicalJson({ command, body })).digest('hex');
    const replay = (stored: { command: string; requestHash: string; response: string }): CommandResponse => {
      if (stored.command !== command || stored.requestHash !== requestHash) {
        return fail(transaction, 'transaction_conflict', `Transaction ${transaction} was already used for a different request.`);
      }
      return { ...(JSON.parse(stored.response) as CommandResponse), duplicate: true };
    };
    const now = this.d.clock.now();
    try {
      // Look-up, change, audit event and stored answer commit together.
      return this.d.store.tx(() => {
        const stored = this.log.find(transaction);
        if (stored) return replay(stored);
        const response: CommandResponse = { transaction, status: 'ok', data: s.run(this.d, body) };
        this.log.insert(transaction, { command, requestHash, response: JSON.stringify(response) }, now);
        return response;
      });
    } catch (err) {
      const response = this.failure(transaction, err);
      // A refusal (unknown compartment, dossier already gone) is an answer too: a repeat gets it
      // again. An unexpected error is not stored, so a repeat may succeed.
      if (err instanceof DomainError) {
        try {
          this.d.store.tx(() => {
            const stored = this.log.find(transaction);
            if (!stored) this.log.insert(transaction, { command, requestHash, response: JSON.stringify(response) }, now);
          });
        } catch (e) {
          this.d.log.error({ err: e }, 'could not store a command answer');
        }
      }
      return response;
    }
  }

  private failure(transaction: string, err: unknown): CommandResponse {
    if (err instanceof DomainError) return fail(transaction, err.code, err.message);
    this.d.log.error({ err }, 'command failed');
    return fail(transaction, 'internal_error', 'The locker could not carry out the command; try again.');
  }
}
