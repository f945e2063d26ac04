// Every text a citizen can receive, one template each, Vietnamese by default and replaceable by
// configuration (LOCKER_SMS_TEMPLATE_<NAME>):
//   code         the pickup code, at loading
//   resent       a NEW pickup code (citizen or staff resend, corrected phone, revived dossier): it says
//                so, because the earlier code stopped working
//   reminder     a while before the deadline; NO code ("use the code you received")
//   receipt      after a pickup: when and from which compartment; NO code (it is spent anyway)
//   code_locked  the code stopped working after too many wrong tries; NO code, whom to call
//   expired      the pickup deadline passed; NO code, whom to call
// Each carries the dossier code's tail (a citizen may have several dossiers) and the office's hotline,
// and fits ONE SMS in the encoding in use (encoding.ts): checked at start-up with the longest values
// the text can get, so a template that would cost two or three SMS per dossier never starts.
// The pickup texts carry the code as the only standalone 6-digit number (kiosks and phones pick it
// out); the others carry none at all, so nothing in them can be mistaken for a code. That holds by
// construction: no 6-digit number in a template, no placeholder touching a digit or another
// placeholder, a dossier tail that is shortened rather than show six digits in a row, and a hotline,
// hours and location that carry none (checked at start-up; a location that does is left out).
import { gsm7Unencodable, ONE_PART, prepareText, smsUnits, type SmsEncoding } from './encoding.ts';
import { formatSmsTime } from './messages.ts';

export type SmsKind = 'pickup_code' | 'reminder' | 'receipt' | 'code_locked' | 'expired';
export const TEMPLATE_NAMES = ['code', 'resent', 'reminder', 'receipt', 'code_locked', 'expired'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The setting that replaces each template. */
export const TEMPLATE_KEYS: Record<TemplateName, string> = {
  code: 'LOCKER_SMS_TEMPLATE_CODE',
  resent: 'LOCKER_SMS_TEMPLATE_RESENT',
  reminder: 'LOCKER_SMS_TEMPLATE_REMINDER',
  receipt: 'LOCKER_SMS_TEMPLATE_RECEIPT',
  code_locked: 'LOCKER_SMS_TEMPLATE_CODE_LOCKED',
  expired: 'LOCKER_SMS_TEMPLATE_EXPIRED',
};

export type SmsTemplates = Record<TemplateName, string | null>;
export const NO_TEMPLATES: SmsTemplates = { code: null, resent: null, reminder: null, receipt: null, code_locked: null, expired: null };

const COMMON = ['dossier', 'hotline', 'hours', 'location'];
export const TEMPLATE_PLACEHOLDERS: Record<TemplateName, { allowed: string[]; required: string[] }> = {
  code: { allowed: ['code', 'deadline', ...COMMON], required: ['code', 'dossier', 'hotline'] },
  resent: { allowed: ['code', 'deadline', ...COMMON], required: ['code', 'dossier', 'hotline'] },
  reminder: { allowed: ['deadline', ...COMMON], required: ['dossier', 'hotline'] },
  // {door} is the older name of {compartment}.
  receipt: { allowed: ['time', 'compartment', 'door', ...COMMON], required: ['dossier', 'hotline'] },
  code_locked: { allowed: COMMON, required: ['dossier', 'hotline'] },
  expired: { allowed: COMMON, required: ['dossier', 'hotline'] },
};

/**
 * The shipped texts. UCS-2 keeps the diacritics and has 70 characters, so it says the least;
 * GSM-7 (the default: brand-name gateways register unaccented templates) has 160 septets and says
 * how to collect. The GSM-7 ones are written with diacritics here and stripped when sent.
 */
export const DEFAULT_TEMPLATES: Record<SmsEncoding, Record<TemplateName, string>> = {
  gsm7: {
    code: 'Hồ sơ {dossier} của Ông/Bà đã sẵn sàng tại Tủ hồ sơ 24/7. Mã nhận: {code}, hạn {deadline}. Nhập SĐT và mã trên màn hình tủ. Hỗ trợ: {hotline}',
    resent: 'MÃ MỚI nhận hồ sơ {dossier}: {code}, hạn {deadline} (mã cũ không còn dùng được). Nhập SĐT và mã trên màn hình tủ. Hỗ trợ: {hotline}',
    reminder: 'Nhắc hẹn: hồ sơ {dossier} tại Tủ hồ sơ 24/7 hết hạn nhận lúc {deadline}. Dùng mã nhận đã gửi qua SMS. Hỗ trợ: {hotline}',
    receipt: 'Hồ sơ {dossier} đã được nhận lúc {time} tại ngăn {compartment}, Tủ hồ sơ 24/7. Nếu không phải Ông/Bà nhận, báo ngay: {hotline}',
    code_locked: 'Mã nhận hồ sơ {dossier} đã bị khóa do nhập sai nhiều lần. Để nhận mã mới, liên hệ {hotline}, {hours}.',
    expired: 'Hồ sơ {dossier} tại Tủ hồ sơ 24/7 đã quá hạn nhận. Để nhận hồ sơ, liên hệ {hotline}, {hours}.',
  },
  ucs2: {
    code: 'Mã nhận HS {dossier}: {code}, hạn {deadline}. LH {hotline}',
    resent: 'Mã MỚI nhận HS {dossier}: {code}, hạn {deadline}. LH {hotline}',
    reminder: 'Nhắc: HS {dossier} hết hạn nhận {deadline}. LH {hotline}',
    receipt: 'HS {dossier} đã nhận lúc {time} tại ngăn {compartment}. LH {hotline}',
    code_locked: 'Mã HS {dossier} bị khóa do nhập sai nhiều lần. LH {hotline}',
    expired: 'HS {dossier} đã quá hạn nhận tại tủ 24/7. LH {hotline}',
  },
};

/** What {hotline} and {hours} say when the office has not configured them. */
export const NO_HOTLINE = 'bộ phận một cửa';
export const NO_HOURS = 'giờ hành chính';

export interface OfficeContact {
  hotline: string | null;
  hours: string | null;
}

export interface TextSettings {
  encoding: SmsEncoding;
  templates: SmsTemplates;
  /** The locker's location (from the map), for templates that name it. */
  location: string;
  office?: OfficeContact;
  /** How many trailing characters of the dossier code the texts show. */
  dossierTail: number;
}

export const DEFAULT_DOSSIER_TAIL = 6;
/** The compartment number the start-up check assumes when the map's largest is not known. */
const WORST_COMPARTMENT = 999;

const SIX_DIGITS = /(?<!\d)\d{6}(?!\d)/g;
const HAS_SIX_DIGITS = /(?<!\d)\d{6}(?!\d)/;
const PLACEHOLDER = /\{([a-z_]+)\}/g;

/** The template in use for `name`: the configured one, or the shipped one for the encoding. */
export function templateFor(name: TemplateName, s: Pick<TextSettings, 'encoding' | 'templates'>): string {
  return s.templates[name] ?? DEFAULT_TEMPLATES[s.encoding][name];
}

/**
 * "…3-0001": the last `n` characters of the dossier code, "…" in front when cut ("..." in GSM-7).
 * A tail that would show a standalone 6-digit number (a code "251123", or "-251123" with n = 7)
 * loses characters from the front until it does not: it must never look like a second pickup code.
 */
export function dossierTail(code: string, n: number): string {
  let cut = code.length > n;
  let tail = cut ? code.slice(-n) : code;
  while (HAS_SIX_DIGITS.test(tail)) {
    tail = tail.slice(1);
    cut = true;
  }
  return cut ? `…${tail}` : tail;
}

/** A location that carries a 6-digit number is left out rather than confuse the citizen. */
function safeLocation(location: string): string {
  return HAS_SIX_DIGITS.test(location) ? '' : location;
}

/** The facts of one message; the settings supply the rest. */
export interface TextValues {
  dossier: string;
  code?: string;
  /** Epoch ms: the pickup deadline (code, resent, reminder) or the pickup time (receipt). */
  deadline?: number;
  time?: number;
  compartment?: number;
}

function placeholderValues(v: TextValues, s: TextSettings): Record<string, string> {
  const values: Record<string, string> = {
    dossier: dossierTail(v.dossier, s.dossierTail),
    hotline: s.office?.hotline ?? NO_HOTLINE,
    hours: s.office?.hours ?? NO_HOURS,
    location: safeLocation(s.location),
  };
  if (v.code !== undefined) values.code = v.code;
  if (v.deadline !== undefined) values.deadline = formatSmsTime(v.deadline);
  if (v.time !== undefined) values.time = formatSmsTime(v.time);
  if (v.compartment !== undefined) values.compartment = values.door = String(v.compartment);
  return values;
}

function fill(template: string, values: Record<string, string>): string {
  return template.normalize('NFC').replace(PLACEHOLDER, (m, name: string) => values[name] ?? m);
}

/** The text as it is sent: filled, made fit for the encoding, and holding no 6-digit number but the code. */
export function renderSms(name: TemplateName, v: TextValues, s: TextSettings): string {
  const text = prepareText(fill(templateFor(name, s), placeholderValues(v, s)), s.encoding);
  // Last line of defence (the start-up check makes it unreachable): a code text keeps its code once,
  // every other text carries nothing shaped like a code.
  let kept = false;
  return text.replace(SIX_DIGITS, (m) => {
    if (v.code !== undefined && m === v.code && !kept) {
      kept = true;
      return m;
    }
    return '';
  });
}

/** The longest values a text can get, for the start-up check (the dossier tail at its longest, cut). */
function worstValues(name: TemplateName, dossierTailLength: number, maxCompartment: number): TextValues {
  const at = Date.UTC(2026, 11, 31, 10, 0); // any instant: every SMS time has SMS_TIME_LENGTH characters (messages.ts)
  return {
    dossier: 'W'.repeat(dossierTailLength + 1),
    code: name === 'code' || name === 'resent' ? '000000' : undefined,
    deadline: at,
    time: at,
    compartment: maxCompartment,
  };
}

export interface CheckFacts {
  /** The map's largest compartment number, when known. */
  maxCompartment?: number;
}

/** Why a configured template is unusable (static rules only), or null when it is fine. */
export function templateShapeProblem(name: TemplateName, template: string): string | null {
  if (template.trim() === '') return 'is empty';
  const { allowed, required } = TEMPLATE_PLACEHOLDERS[name];
  const used = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const list = (ps: string[]) => ps.map((p) => `{${p}}`).join(' ');
  const unknown = used.find((p) => !allowed.includes(p));
  if (unknown) return `unknown placeholder {${unknown}}; allowed: ${list(allowed)}`;
  if (required.includes('code') && used.filter((p) => p === 'code').length !== 1) return 'must contain {code} exactly once';
  if (template.replace(PLACEHOLDER, ' ').match(SIX_DIGITS)) return 'must not contain a 6-digit number of its own (it would look like a pickup code)';
  const missing = required.filter((p) => !used.includes(p));
  if (missing.length > 0) return `must contain ${list(missing)} (required: ${list(required)})`;
  if (/\d\{[a-z_]+\}|\{[a-z_]+\}\d|\}\{/.test(template)) {
    return 'must not put a digit or another placeholder right next to a placeholder (together they could form a second 6-digit number)';
  }
  return null;
}

/** Why the template in use for `name` cannot be sent as one SMS in the configured encoding, or null. */
export function templateProblem(name: TemplateName, s: TextSettings, facts: CheckFacts = {}): string | null {
  const template = templateFor(name, s);
  const shape = templateShapeProblem(name, template);
  if (shape) return shape;
  const filled = fill(template, placeholderValues(worstValues(name, s.dossierTail, facts.maxCompartment ?? WORST_COMPARTMENT), s));
  if (s.encoding === 'gsm7') {
    const bad = gsm7Unencodable(filled);
    if (bad.length > 0) return `has characters GSM-7 cannot carry: ${bad.map((c) => JSON.stringify(c)).join(' ')} (LOCKER_SMS_ENCODING=gsm7)`;
  }
  const { encoding, units } = smsUnits(prepareText(filled, s.encoding));
  const max = ONE_PART[encoding];
  if (units > max) {
    const unit = encoding === 'gsm7' ? 'GSM-7 septets' : 'UCS-2 characters';
    return `needs ${units} ${unit} with the longest values (6-digit code, ${s.dossierTail + 1}-character dossier tail, the configured hotline and hours): more than the ${max} of one SMS`;
  }
  return null;
}

/** Why an office hotline or hours text cannot go into a notice, or null when it is fine. */
export function officeTextProblem(text: string): string | null {
  if (text.length > 60) return 'is longer than 60 characters (the notices must stay short)';
  if (text.match(SIX_DIGITS)) return 'must not contain a standalone 6-digit number (it would look like a pickup code); group the digits, e.g. 1900 1234 56';
  return null;
}
