// One schema per input and reply of the central API; they also feed its OpenAPI document (/docs).
import { Type } from 'typebox';
import { DOSSIER_CODE_PATTERN } from '../../domain/dossier-rules.ts';

export const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });
export const errorReplies = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  429: ErrorReply,
  503: ErrorReply,
};

export const LOCKER_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export const LoginReply = Type.Object({ token: Type.String(), role: Type.Union([Type.Literal('auditor'), Type.Literal('admin')]), expiresAt: Iso });

export const CentralHealth = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  service: Type.Literal('central'),
  uptimeSec: Type.Integer(),
  database: Type.Object({ state: Type.String(), kind: Type.String(), lockers: Type.Integer(), events: Type.Integer() }),
  mqtt: Type.Object({ state: Type.String() }, { additionalProperties: true }),
});

const Counts = Type.Object({
  free: Type.Integer(),
  occupied: Type.Integer({ description: 'holding a dossier, loading included' }),
  fault: Type.Integer(),
  loading: Type.Integer(),
  disabled: Type.Integer(),
});

export const LockerSummary = Type.Object({
  id: Type.String(),
  online: Type.Boolean(),
  availability: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Null()], { description: 'null: never heard' }),
  since: NullableIso,
  compartments: Counts,
  alarms: Type.Integer({ description: 'open alarms now' }),
  events: Type.Integer({ description: 'events stored' }),
  verified: Type.Boolean({ description: 'no missing seq, no broken hash or link, no conflicting copy (as checked on arrival)' }),
  latestSeq: Type.Integer(),
  overdue: Type.Integer({ description: 'dossiers past their collection time, not collected' }),
  lastSeen: Iso,
  stateAt: Type.Union([Type.String(), Type.Null()]),
});
export const LockerList = Type.Object({ lockers: Type.Array(LockerSummary) });
export const LockerParams = Type.Object({ id: Type.String({ pattern: LOCKER_ID_PATTERN }) }, { additionalProperties: false });

const Alarm = Type.Object({
  id: Type.Integer(),
  locker: Type.String(),
  kind: Type.String({ description: "gap, broken, conflict or malformed (the trail's own), or a locker alarm's event type (door.jammed, sms.failed...)" }),
  seq: Type.Union([Type.Integer(), Type.Null()]),
  detail: Type.Object({}, { additionalProperties: true }),
  occurrences: Type.Integer(),
  openedAt: Iso,
  lastAt: Iso,
  open: Type.Boolean(),
  closedAt: NullableIso,
  closedBy: Type.Union([Type.String(), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
});
export const AlarmList = Type.Object({ alarms: Type.Array(Alarm) });
export const AlarmQuery = Type.Object(
  { locker: Type.Optional(Type.String({ pattern: LOCKER_ID_PATTERN })), open: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) },
  { additionalProperties: false },
);
export const AlarmParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) }, { additionalProperties: false });
export const CloseAlarmBody = Type.Object({ note: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });

export const LockerDetail = Type.Object({
  locker: LockerSummary,
  state: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  overdue: Type.Array(
    Type.Object({ dossier: Type.String(), status: Type.String(), compartment: Type.Union([Type.Integer(), Type.Null()]), expiresAt: NullableIso }),
  ),
  alarms: Type.Array(Alarm),
});

export const VerifyReply = Type.Object({
  ok: Type.Boolean(),
  count: Type.Integer({ description: 'events stored' }),
  gaps: Type.Array(Type.Integer(), { description: 'missing seqs up to the latest known seq' }),
  broken: Type.Array(Type.Integer(), { description: 'seqs whose hash or link to seq-1 fails, or of which a different copy arrived' }),
  conflicts: Type.Array(Type.Integer()),
  latestSeq: Type.Integer(),
  head: Type.Union([Type.String(), Type.Null()]),
  gapsTruncated: Type.Optional(Type.Boolean()),
});

export const PickupQuery = Type.Object(
  {
    dossier: Type.Optional(Type.String({ pattern: DOSSIER_CODE_PATTERN })),
    locker: Type.Optional(Type.String({ pattern: LOCKER_ID_PATTERN })),
    from: Type.Optional(Type.String({ minLength: 10, maxLength: 40 })),
    to: Type.Optional(Type.String({ minLength: 10, maxLength: 40 })),
    after: Type.Optional(Type.String({ pattern: '^(0|[0-9]{1,15}-[0-9]{1,15})$', description: 'the `next` of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);
export const CsvQuery = Type.Object(
  {
    dossier: PickupQuery.properties.dossier,
    locker: PickupQuery.properties.locker,
    from: PickupQuery.properties.from,
    to: PickupQuery.properties.to,
  },
  { additionalProperties: false },
);
const Pickup = Type.Object({
  locker: Type.String(),
  dossier: Type.Union([Type.String(), Type.Null()]),
  compartment: Type.Union([Type.Integer(), Type.Null()]),
  at: Type.String(),
  eventId: Type.String(),
  seq: Type.Integer(),
  verified: Type.Boolean({ description: 'its hash and its link to seq-1 check out' }),
});
export const PickupPage = Type.Object({ pickups: Type.Array(Pickup), next: Type.Union([Type.String(), Type.Null()], { description: 'opaque cursor: pass as `after`' }) });

export const EventsQuery = Type.Object(
  { after: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) },
  { additionalProperties: false },
);
export const EventsPage = Type.Object({ events: Type.Array(Type.Object({}, { additionalProperties: true })), next: Type.Union([Type.Integer(), Type.Null()]) });

export const CommandBody = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 64, description: 'state/get, compartment/disable, compartment/enable, dossier/cancel' }),
    args: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'the command\'s fields, e.g. {"number": 3}' })),
    transaction: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'repeat one to retry it; the locker applies it once' })),
  },
  { additionalProperties: false },
);
export const CommandReply = Type.Object({
  transaction: Type.String(),
  locker: Type.String(),
  command: Type.String(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('pending')]),
  data: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  requestedBy: Type.String(),
  requestedAt: Iso,
  answeredAt: NullableIso,
});
export const CommandList = Type.Object({ commands: Type.Array(CommandReply) });
export const TransactionParams = Type.Object({ transaction: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }, { additionalProperties: false });
