// The three texts a citizen can receive, Vietnamese by default and replaceable by configuration:
//   code      the pickup code, its deadline and the locker's location (at loading and on resend)
//   reminder  a while before the deadline; it carries NO code ("use the code you received")
//   receipt   after a pickup: when and from which door; NO code (it is spent anyway)
//   code_locked  the code stopped working after too many wrong tries; NO code, whom to call
//   expired      the pickup deadline passed; NO code, whom to call
// The pickup text carries its code as the only standalone 6-digit number (kiosks and phones pick it
// out); the others carry none at all, so nothing in them can be mistaken for a code.
import { formatDeadline, pickupMessage, stripDiacritics } from './messages.ts';

export type SmsKind = 'pickup_code' | 'reminder' | 'receipt' | 'code_locked' | 'expired';
export type TemplateName = 'code' | 'reminder' | 'receipt';

export interface SmsTemplates {
  code: string | null;
  reminder: string | null;
  receipt: string | null;
}

const SIX_DIGITS = /(?<!\d)\d{6}(?!\d)/g;
const PLACEHOLDER = /\{([a-z_]+)\}/g;

export const TEMPLATE_PLACEHOLDERS: Record<TemplateName, string[]> = {
  code: ['code', 'deadline', 'location'],
  reminder: ['deadline', 'location'],
  receipt: ['time', 'door', 'location'],
};

export const MAX_TEMPLATE_LENGTH = 600;

/** Why a configured template is unusable, or null when it is fine. */
export function templateProblem(name: TemplateName, template: string): string | null {
  if (template.trim() === '') return 'is empty';
  if (template.length > MAX_TEMPLATE_LENGTH) return `is longer than ${MAX_TEMPLATE_LENGTH} characters`;
  const allowed = TEMPLATE_PLACEHOLDERS[name];
  const used = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const unknown = used.find((p) => !allowed.includes(p));
  if (unknown) return `unknown placeholder {${unknown}}; allowed: ${allowed.map((p) => `{${p}}`).join(' ')}`;
  if (name === 'code' && used.filter((p) => p === 'code').length !== 1) return 'must contain {code} exactly once';
  if (template.replace(PLACEHOLDER, ' ').match(SIX_DIGITS)) return 'must not contain a 6-digit number of its own (it would look like a pickup code)';
  return null;
}

/** A location that carries a 6-digit number is left out rather than confuse the citizen. */
function safeLocation(location: string): string {
  return (location.match(SIX_DIGITS) ?? []).length > 0 ? '' : location;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (m, name: string) => values[name] ?? m);
}

function finish(text: string, plain: boolean): string {
  return plain ? stripDiacritics(text) : text;
}

export interface TextOptions {
  templates: SmsTemplates;
  location: string;
  plain: boolean;
  /** The office's hotline and opening hours, named in the notices that ask the citizen to get in touch. */
  office?: OfficeContact;
}

export interface OfficeContact {
  hotline: string | null;
  hours: string | null;
}

/** Why an office hotline or hours text cannot go into a notice, or null when it is fine. */
export function officeTextProblem(text: string): string | null {
  if (text.length > 60) return 'is longer than 60 characters (the notices must stay short)';
  if (text.match(SIX_DIGITS)) return 'must not contain a standalone 6-digit number (it would look like a pickup code); group the digits, e.g. 1900 1234 56';
  return null;
}

/** "the office, hotline 024 3825 3536, 7:30-17:00 Mon-Fri", or just "the office" when nothing is configured. */
function contact(o: TextOptions): string {
  return ['bộ phận một cửa', o.office?.hotline ? `ĐT ${o.office.hotline}` : null, o.office?.hours ?? null].filter(Boolean).join(', ');
}

export function codeText(o: TextOptions, code: string, expiresAt: number): string {
  if (!o.templates.code) return pickupMessage({ code, expiresAt, location: o.location, plain: o.plain });
  const text = fill(o.templates.code, { code, deadline: formatDeadline(expiresAt), location: safeLocation(o.location) });
  return finish(text, o.plain);
}

export function reminderText(o: TextOptions, expiresAt: number): string {
  const location = safeLocation(o.location);
  const deadline = formatDeadline(expiresAt);
  const text = o.templates.reminder
    ? fill(o.templates.reminder, { deadline, location })
    : `Nhắc hẹn: hồ sơ của bạn tại Tủ ATM hồ sơ 24/7${location ? ` (${location})` : ''} sẽ hết hạn nhận lúc ${deadline}. ` +
      `Hãy nhập số điện thoại và mã nhận đã được gửi cho bạn trên màn hình của tủ.`;
  return noCode(finish(text, o.plain));
}

export function receiptText(o: TextOptions, pickedUpAt: number, door: number): string {
  const location = safeLocation(o.location);
  const time = formatDeadline(pickedUpAt);
  const text = o.templates.receipt
    ? fill(o.templates.receipt, { time, door: String(door), location })
    : `Hồ sơ của bạn đã được nhận lúc ${time} tại ngăn số ${door}, Tủ ATM hồ sơ 24/7${location ? ` (${location})` : ''}. ` +
      `Nếu không phải bạn nhận, hãy báo ngay cho bộ phận một cửa.`;
  return noCode(finish(text, o.plain));
}

/** After the code's wrong tries ran out: the kiosk keeps answering "invalid", so the citizen learns it here. */
export function codeLockedText(o: TextOptions): string {
  return noCode(finish(`Mã nhận hồ sơ tại Tủ ATM hồ sơ 24/7 đã bị khóa do nhập sai nhiều lần. Để nhận mã mới, liên hệ ${contact(o)}.`, o.plain));
}

/** The pickup deadline passed: the code no longer works, the dossier waits at the office's side. */
export function expiredText(o: TextOptions): string {
  return noCode(finish(`Hồ sơ của bạn tại Tủ ATM hồ sơ 24/7 đã quá hạn nhận. Để nhận hồ sơ, liên hệ ${contact(o)}.`, o.plain));
}

/** Last line of defence: a reminder or receipt never carries anything shaped like a code. */
function noCode(text: string): string {
  return text.replace(SIX_DIGITS, '');
}
