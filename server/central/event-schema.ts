// What a locker publishes on `B/L/events`, `B/L/availability` and `B/L/state` (contract "MQTT"),
// checked before anything is stored. Events may carry fields this version does not know: they
// are kept, and the hash covers them.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { AuditEvent } from '../domain/audit-event.ts';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Int4 = { minimum: 1, maximum: 2_147_483_647 };

export const PublishedEvent = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    seq: Type.Integer(Int4),
    at: Type.String({ minLength: 10, maxLength: 40 }),
    type: Type.String({ minLength: 1, maxLength: 100 }),
    actor: Type.String({ minLength: 1, maxLength: 200 }),
    compartment: Type.Optional(Type.Integer(Int4)),
    dossier: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    data: Type.Optional(Type.Object({}, { additionalProperties: true })),
    prevHash: Hex64,
    hash: Hex64,
    locker: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const Availability = Type.Object({ state: Type.Union([Type.Literal('online'), Type.Literal('offline')]) }, { additionalProperties: true });

const CompartmentState = Type.Object(
  {
    number: Type.Integer({ minimum: 1 }),
    size: Type.String(),
    status: Type.String(),
    door: Type.String(),
  },
  { additionalProperties: true },
);
export const LockerState = Type.Object(
  { compartments: Type.Array(CompartmentState, { maxItems: 10_000 }), seq: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), at: Type.String({ maxLength: 40 }) },
  { additionalProperties: true },
);
export type LockerStateBody = Static<typeof LockerState>;

const checkEvent = Compile(PublishedEvent);
const checkAvailability = Compile(Availability);
const checkState = Compile(LockerState);

export const MAX_PAYLOAD_BYTES = 64 * 1024;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseJson(payload: Buffer): Parsed<unknown> {
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload larger than ${MAX_PAYLOAD_BYTES} bytes` };
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
}

function firstError(check: { Errors(v: unknown): { instancePath: string; message: string }[] }, value: unknown): string {
  const e = check.Errors(value)[0];
  return `${e?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(payload)'}: ${e?.message ?? 'invalid'}`;
}

export type LockerEvent = AuditEvent & { locker?: string } & Record<string, unknown>;

export function parseEvent(payload: Buffer, lockerId: string): Parsed<LockerEvent> {
  const j = parseJson(payload);
  if (!j.ok) return j;
  if (!checkEvent.Check(j.value)) return { ok: false, reason: firstError(checkEvent, j.value) };
  const e = j.value as LockerEvent;
  if (!Number.isFinite(Date.parse(e.at))) return { ok: false, reason: 'at: not an ISO time' };
  if (e.locker !== undefined && e.locker !== lockerId) return { ok: false, reason: `locker: "${e.locker}" published on the topic of ${lockerId}` };
  return { ok: true, value: e };
}

export function parseAvailability(payload: Buffer): Parsed<'online' | 'offline'> {
  const j = parseJson(payload);
  if (!j.ok) return j;
  if (!checkAvailability.Check(j.value)) return { ok: false, reason: firstError(checkAvailability, j.value) };
  return { ok: true, value: (j.value as { state: 'online' | 'offline' }).state };
}

export function parseState(payload: Buffer): Parsed<LockerStateBody> {
  const j = parseJson(payload);
  if (!j.ok) return j;
  if (!checkState.Check(j.value)) return { ok: false, reason: firstError(checkState, j.value) };
  return { ok: true, value: j.value as LockerStateBody };
}

export const LOCKER_ID = /^[A-Za-z0-9_-]{1,64}$/;
