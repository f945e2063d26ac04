// Bodies and replies of the staff repairs and the alarm acknowledgements (kept apart from
// schemas.ts so each feature's schemas read together). They also feed the OpenAPI document.
import { Type } from 'typebox';
import { Dossier, Phone, Reason } from './schemas.ts';

export const PhoneCorrectionBody = Type.Object({ phone: Phone, reason: Reason }, { additionalProperties: false });

export const ExtendBody = Type.Object(
  {
    days: Type.Optional(Type.Number({ minimum: 0.01, maximum: 60, description: 'new deadline this many days from now' })),
    until: Type.Optional(Type.String({ minLength: 10, maxLength: 40, description: 'new deadline as an ISO time, within 60 days' })),
    reason: Reason,
  },
  { additionalProperties: false, description: 'exactly one of days and until' },
);

export const RevealedPhone = Type.Object({ code: Type.String(), phone: Type.String({ description: 'the full number, 0xxxxxxxxx' }) });

export const PhoneSearchBody = Type.Object(
  { phone: Phone, reason: Type.Optional(Reason) },
  { additionalProperties: false, description: 'in the body, so the number does not end up in access logs' },
);
export const DossierMatches = Type.Object({ dossiers: Type.Array(Dossier) });

const AlarmAck = Type.Object({
  by: Type.String({ description: 'staff:<username>' }),
  at: Type.String({ format: 'date-time' }),
  note: Type.Union([Type.String(), Type.Null()]),
  seq: Type.Integer({ description: 'seq of the alarm.acknowledged event' }),
});
export const AlarmItem = Type.Object({
  seq: Type.Integer({ description: 'the audit seq of the alarm event' }),
  at: Type.String({ format: 'date-time' }),
  type: Type.String(),
  actor: Type.String(),
  compartment: Type.Optional(Type.Integer()),
  dossier: Type.Optional(Type.String()),
  data: Type.Optional(Type.Object({}, { additionalProperties: true })),
  ack: Type.Union([AlarmAck, Type.Null()]),
});
export const AlarmList = Type.Object({ alarms: Type.Array(AlarmItem) });
export const AlarmQuery = Type.Object(
  {
    open: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);
export const AlarmParams = Type.Object({ seq: Type.String({ pattern: '^[0-9]{1,15}$' }) }, { additionalProperties: false });
export const AckBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
