// One schema per body and reply. These also feed the OpenAPI document at /docs.
import { Type } from 'typebox';
import { MAX_PASSWORD, USERNAME_PATTERN } from '../domain/auth-service.ts';
import { AuditFilterParams } from './audit-filter.ts';
import { DOSSIER_CODE_PATTERN } from '../domain/dossier-rules.ts';

export const ErrorReply = Type.Object(
  { error: Type.String(), message: Type.String() },
  { $id: 'ErrorReply', description: 'Every error: a stable code and a human message.' },
);

const Size = Type.Union([Type.Literal('S'), Type.Literal('M'), Type.Literal('L')]);
const DossierStatus = Type.Union([
  Type.Literal('loading'),
  Type.Literal('ready'),
  Type.Literal('picked_up'),
  Type.Literal('expired'),
  Type.Literal('withdrawn'),
  Type.Literal('cancelled'),
]);
export const DossierCode = Type.String({ pattern: DOSSIER_CODE_PATTERN, description: 'e.g. H29.12-251123-0001' });
export const Phone = Type.String({ minLength: 1, maxLength: 20, description: '0xxxxxxxxx or +84xxxxxxxxx' });

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export const LoginReply = Type.Object({
  token: Type.String(),
  role: Type.Union([Type.Literal('staff'), Type.Literal('auditor'), Type.Literal('admin')]),
  expiresAt: Type.String({ format: 'date-time' }),
  /** Seconds from now until expiresAt: a client judges expiry by its own clock with it. */
  expiresIn: Type.Integer({ minimum: 0 }),
});

// Accounts (admins only). A reply never carries a password or its hash.
const RoleName = Type.Union([Type.Literal('staff'), Type.Literal('auditor'), Type.Literal('admin')]);
const Username = Type.String({ pattern: USERNAME_PATTERN, description: '1-64 letters, digits, ".", "-" or "_"' });
const NewPassword = Type.String({ minLength: 1, maxLength: MAX_PASSWORD, description: 'at least 8 characters' });
export const UserItem = Type.Object({
  username: Type.String(),
  role: RoleName,
  state: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('blocked')], {
    description: 'blocked = too many failed logins, until blockedUntil or an unlock',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  blockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export const UserList = Type.Object({ users: Type.Array(UserItem) });
export const NewUserBody = Type.Object({ username: Username, role: RoleName, password: NewPassword }, { additionalProperties: false });
export const PasswordBody = Type.Object({ password: NewPassword }, { additionalProperties: false });
export const UserParams = Type.Object({ name: Username }, { additionalProperties: false });
export const UnlockReply = Type.Object({
  user: UserItem,
  wasBlocked: Type.Boolean({ description: 'a block on this name was in force and is lifted' }),
  blockedAddresses: Type.Integer({ description: 'network addresses still blocked: unlock leaves blocks on addresses in place' }),
  addressesFreeAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const RegisterBody = Type.Object({ code: DossierCode, phone: Phone, size: Size }, { additionalProperties: false });
export const CodeParams = Type.Object({ code: DossierCode }, { additionalProperties: false });

export const DossierStep = Type.Object({
  code: Type.String(),
  compartment: Type.Integer(),
  status: DossierStatus,
});

/** Registering also says the size of the compartment given: larger than asked when none of that size was free. */
export const RegisterReply = Type.Object({
  code: Type.String(),
  compartment: Type.Integer(),
  status: DossierStatus,
  size: Size,
  compartmentSize: Size,
  autoConfirm: Type.Boolean({ description: 'shutting the door after loading confirms the dossier by itself (LOCKER_AUTO_CONFIRM)' }),
});

export const Dossier = Type.Object({
  code: Type.String(),
  compartment: Type.Integer(),
  status: DossierStatus,
  size: Size,
  phone: Type.String({ description: 'masked: 09******78' }),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  readyAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  confirmedBy: Type.Union([Type.Literal('door'), Type.Literal('staff'), Type.Null()], {
    description: 'who confirmed it loaded: its door closing (auto-confirm) or a clerk; null while loading',
  }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  sms: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('failed'), Type.Null()], {
    description: 'the pickup code message: delivered only where the channel reports delivery (modem status reports)',
  }),
  failedAttempts: Type.Integer(),
  codeLocked: Type.Boolean(),
  lifetimeCapReached: Type.Boolean({ description: 'wrong codes reached the lifetime cap: only staff can issue a new code' }),
  resends: Type.Integer(),
});

export const DossierListQuery = Type.Object(
  {
    status: Type.Optional(DossierStatus),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);
export const DossierList = Type.Object({ dossiers: Type.Array(Dossier) });

export const CompartmentItem = Type.Object({
  number: Type.Integer(),
  size: Size,
  status: Type.Union([Type.Literal('free'), Type.Literal('loading'), Type.Literal('occupied'), Type.Literal('disabled'), Type.Literal('fault')]),
  door: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
});
export const CompartmentParams = Type.Object({ number: Type.String({ pattern: '^[0-9]{1,6}$' }) }, { additionalProperties: false });
export const DisableBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
export const CompartmentList = Type.Object({ compartments: Type.Array(CompartmentItem) });
/** A repair's reason: what staff write in the trail about why they did it. */
/** Why a staff repair is made. A blank one is refused by the domain (checkReason) as `invalid_reason`. */
export const Reason = Type.String({ minLength: 1, maxLength: 200, description: 'why (1-200 characters, not blank); audited' });
/** The body of every repair that needs nothing but its reason. */
export const ReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });

export const PickupBody = Type.Object(
  { phone: Phone, code: Type.String({ minLength: 1, maxLength: 32 }) },
  { additionalProperties: false },
);
export const PickupReply = Type.Object({
  compartment: Type.Integer(),
  doorToken: Type.Optional(
    Type.String({ description: 'Opaque, for a few minutes: GET /api/v1/kiosk/door/{doorToken} tells whether this door has been shut' }),
  ),
});
export const KioskDoorReply = Type.Object({
  door: Type.Union([Type.Literal('waiting'), Type.Literal('open'), Type.Literal('shut')], {
    description: 'waiting: not opened yet; open; shut: opened since the pickup and closed again',
  }),
});
export const ResendBody = Type.Object({ phone: Phone }, { additionalProperties: false });
export const Accepted = Type.Object({ status: Type.Literal('accepted') });

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  type: Type.String(),
  actor: Type.String(),
  compartment: Type.Optional(Type.Integer()),
  dossier: Type.Optional(Type.String()),
  data: Type.Optional(Type.Object({}, { additionalProperties: true })),
  prevHash: Type.String(),
  hash: Type.String(),
});
export const AuditQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    // The auditor view's additions: filters, newest first, and a count of what matches.
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'only events with a lower seq (the `next` of a page in order=desc)' })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'asc (default, seq order) or desc (newest first; `next` is then the `before` of the next page)' })),
    count: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: also answer `total`, how many events match the filters' })),
    ...AuditFilterParams,
  },
  { additionalProperties: false },
);
export const AuditCsvQuery = Type.Object(
  {
    ...AuditFilterParams,
    lang: Type.Optional(Type.Union([Type.Literal('vi'), Type.Literal('en')], { description: 'language of the description column (default vi)' })),
  },
  { additionalProperties: false },
);
export const AuditPage = Type.Object({
  events: Type.Array(AuditEventSchema),
  next: Type.Union([Type.Integer(), Type.Null()]),
  total: Type.Optional(Type.Integer({ description: 'with count=true: events matching the filters' })),
});
export const AuditMeta = Type.Object({
  timeZone: Type.String({ description: 'LOCKER_TIMEZONE: the zone of local times on the auditor view and in the CSV' }),
  types: Type.Array(Type.String(), { description: 'every event type the locker writes, and any other type found in its trail' }),
});
export const AuditVerify = Type.Object({
  ok: Type.Boolean(),
  count: Type.Integer(),
  head: Type.String({ description: 'hash of the last event (64 zeros for an empty trail)' }),
  brokenAt: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  anchored: Type.Object(
    {
      seq: Type.Integer(),
      hash: Type.Union([Type.String(), Type.Null()]),
      at: Type.Union([Type.String(), Type.Null()]),
    },
    { description: 'the newest event the broker acknowledged with every earlier one (seq 0: none yet)' },
  ),
  unconfirmed: Type.Integer({ description: 'events after the anchored one: not yet confirmed by the broker' }),
});

export const SimDoorParams = Type.Object({ number: Type.String({ pattern: '^[0-9]{1,6}$' }) }, { additionalProperties: false });
export const SimDoorBody = Type.Object({ open: Type.Boolean() }, { additionalProperties: false });
export const SimDoorReply = Type.Object({ number: Type.Integer(), door: Type.Union([Type.Literal('open'), Type.Literal('closed')]) });

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  locker: Type.String(),
  uptimeSec: Type.Integer(),
  database: Type.Object({ state: Type.String(), auditSeq: Type.Integer() }),
  doors: Type.Object({
    driver: Type.String(),
    state: Type.String({ description: 'ok, or degraded while a lock board does not answer' }),
    faults: Type.Integer(),
    boards: Type.Optional(
      Type.Array(Type.Object({ id: Type.String(), address: Type.Integer(), state: Type.Union([Type.Literal('ok'), Type.Literal('gone')]), compartments: Type.Integer() }), {
        description: 'LOCKER_DOORS=serial: each lock board',
      }),
    ),
  }),
  sms: Type.Object(
    {
      channel: Type.String(),
      state: Type.Optional(Type.String({ description: 'ok, degraded (weak signal, no SIM, not registered) or down (modem gone or not answering)' })),
      reason: Type.Optional(Type.String()),
      queued: Type.Integer(),
      failed: Type.Integer(),
      sent: Type.Optional(Type.Integer()),
      delivered: Type.Optional(Type.Integer()),
    },
    { additionalProperties: true, description: 'with LOCKER_SMS=modem also device, connected, sim, registration, signal {rssi, dbm}, operator, deliveryReports, lastCheckAt' },
  ),
  mqtt: Type.Object({ state: Type.String(), outbox: Type.Integer() }, { additionalProperties: true }),
});

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
