// The auditor's filters as query parameters, shared by the JSON pages and the CSV export:
// checked here, so a wrong value is a 400 that names the parameter and nothing is read.
import { Type } from 'typebox';
import { DomainError } from '../domain/errors.ts';
import type { AuditFilter } from '../domain/audit-query.ts';
import { localDayStart } from '../web/lib/local-time.js';

const TYPE = '[a-z_]{1,40}\\.[a-z_]{1,40}';

/** Query parameters of the filters (both endpoints). */
export const AuditFilterParams = {
  from: Type.Optional(Type.String({ maxLength: 40, description: 'from this time (ISO, with Z or an offset) or from the start of this local day (YYYY-MM-DD in LOCKER_TIMEZONE); inclusive' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'up to this time (ISO) or to the end of this local day (YYYY-MM-DD); inclusive' })),
  type: Type.Optional(Type.String({ pattern: `^${TYPE}(,${TYPE}){0,49}$`, description: 'one event type, or several separated by commas' })),
  compartment: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'a compartment number' })),
  dossier: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'all or part of a dossier code, any case' })),
  actor: Type.Optional(
    Type.String({ pattern: '^(citizen|system|central|staff|staff:[A-Za-z0-9._-]{1,64})$', description: '`citizen`, `system`, `central`, `staff:<username>`, or `staff` for any staff member' }),
  ),
};

export interface AuditFilterQuery {
  from?: string;
  to?: string;
  type?: string;
  compartment?: string;
  dossier?: string;
  actor?: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 3600_000;

const bad = (param: string, message: string) => new DomainError(400, 'invalid_request', `${param}: ${message}`);

/** An ISO instant, or a local day's first (end=false) or last (end=true) millisecond. */
function instant(param: string, value: string, timeZone: string, end: boolean): string {
  if (DAY.test(value)) {
    const start = localDayStart(value, timeZone);
    if (start === null) throw bad(param, `no such day "${value}"`);
    // The next day's start is found the same way, so a day of 23 or 25 hours ends where it should.
    const next = localDayStart(new Date(Date.parse(`${value}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10), timeZone)!;
    return new Date(end ? next - 1 : start).toISOString();
  }
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw bad(param, `must be an ISO time such as 2026-12-03T08:00:00+07:00 or a day such as 2026-12-03, got "${value}"`);
  return new Date(ms).toISOString();
}

/** The filter the query asks for; `knownTypes` gives the types a `type` may name (asked only when one is). */
export function readAuditFilter(q: AuditFilterQuery, timeZone: string, knownTypes: () => ReadonlySet<string>): AuditFilter {
  const f: AuditFilter = {};
  if (q.from !== undefined) f.from = instant('from', q.from, timeZone, false);
  if (q.to !== undefined) f.to = instant('to', q.to, timeZone, true);
  if (f.from && f.to && f.from > f.to) throw bad('from', 'must not come after to');
  if (q.type !== undefined) {
    const types = [...new Set(q.type.split(','))];
    const known = knownTypes();
    const unknown = types.filter((t) => !known.has(t));
    if (unknown.length > 0) throw bad('type', `unknown event type ${unknown.join(', ')}`);
    f.types = types;
  }
  if (q.compartment !== undefined) f.compartment = Number(q.compartment);
  if (q.dossier !== undefined) f.dossier = q.dossier;
  if (q.actor !== undefined) f.actor = q.actor;
  return f;
}
