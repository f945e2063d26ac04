import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXAMPLE_MAP_PATH } from '../../locker-map/load.ts';
import { DEFAULT_RETENTION_DAYS } from '../domain/retention.ts';
import { HTTP_PRESETS, PHONE_FORMATS, presetConfig, type PresetFields } from '../sms/http-presets.ts';
import { SMS_ENCODINGS, type SmsEncoding } from '../sms/encoding.ts';
import { DEFAULT_DOSSIER_TAIL, officeTextProblem, TEMPLATE_KEYS, TEMPLATE_NAMES, templateProblem, templateShapeProblem, type SmsTemplates } from '../sms/templates.ts';
import { insecureMqttMessage, mqttWeaknesses } from './mqtt-security.ts';
import { readListenSettings } from './listen.ts';
import { isTimeZone } from '../web/lib/local-time.js';
import { DEFAULT_VOICE_DIR } from './kiosk-voice.ts';
import type { HttpSmsConfig, LockerConfig, MqttOptions, SmsOptions } from './schema.ts';

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`config: ${field}: ${message}`);
  }
}

type Source = Record<string, string | undefined>;

// Keys that came from the config file: any of them that no setting reads is a typo.
const fileKeys = new WeakMap<Source, string[]>();

/** Reads the config file named by LOCKER_CONFIG (if any) under the environment. */
export function configSource(env: NodeJS.ProcessEnv = process.env): Source {
  const file = env.LOCKER_CONFIG;
  if (!file) return { ...env };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('LOCKER_CONFIG', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('LOCKER_CONFIG', `${file} must hold a JSON object`);
  const fromFile: Source = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!/^LOCKER_[A-Z0-9_]+$/.test(k)) throw new ConfigError(k, `unknown key in ${file}`);
    fromFile[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const merged: Source = { ...fromFile, ...env };
  fileKeys.set(merged, Object.keys(fromFile));
  return merged;
}

class Reader {
  readonly used = new Set<string>();
  private readonly src: Source;

  constructor(src: Source) {
    // Every read goes through the proxy, so the reader knows which keys exist.
    this.src = new Proxy(src, {
      get: (target, key: string) => {
        this.used.add(key);
        return target[key];
      },
    });
  }

  str(key: string, def: string): string {
    const v = this.src[key];
    if (v === undefined || v === '') return def;
    return v;
  }

  optional(key: string): string | null {
    const v = this.src[key];
    return v === undefined || v === '' ? null : v;
  }

  int(key: string, def: number, min: number, max: number): number {
    const v = this.src[key];
    if (v === undefined || v === '') return def;
    if (!/^-?\d+$/.test(v.trim())) throw new ConfigError(key, `must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  num(key: string, def: number, min: number, max: number): number {
    const v = this.src[key];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (!Number.isFinite(n) || v.trim() === '') throw new ConfigError(key, `must be a number, got "${v}"`);
    if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    const v = this.str(key, def);
    if (!allowed.includes(v as T)) throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.optional(key);
    if (v === null) return def;
    if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
    throw new ConfigError(key, `must be true or false, got "${v}"`);
  }
}

export function loadConfig(src: Source = configSource()): LockerConfig {
  const r = new Reader(src);
  const dataDir = resolve(r.str('LOCKER_DATA_DIR', './data'));
  const lockerId = r.str('LOCKER_ID', 'locker-1');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(lockerId)) {
    throw new ConfigError('LOCKER_ID', 'must be 1-64 letters, digits, "-" or "_" (it is an MQTT topic segment)');
  }
  const mqttBase = r.str('LOCKER_MQTT_BASE', 'locker');
  if (/[#+]/.test(mqttBase) || mqttBase.startsWith('/') || mqttBase.endsWith('/')) {
    throw new ConfigError('LOCKER_MQTT_BASE', 'must be a topic without wildcards or leading/trailing "/"');
  }
  const mqttUrl = r.optional('LOCKER_MQTT_URL');
  if (mqttUrl !== null && !/^mqtts?:\/\/[^/]+/.test(mqttUrl)) {
    throw new ConfigError('LOCKER_MQTT_URL', `must start with mqtt:// or mqtts://, got "${mqttUrl}"`);
  }
  const sms = r.oneOf('LOCKER_SMS', 'file', ['file', 'http', 'modem'] as const);
  const port = r.int('LOCKER_PORT', 8080, 0, 65535);
  const listen = readListenSettings(r, 'LOCKER');
  const loopbackPort = r.int('LOCKER_LOOPBACK_PORT', 8081, 0, 65535);
  if (listen.tls && loopbackPort !== 0 && loopbackPort === port) {
    throw new ConfigError('LOCKER_LOOPBACK_PORT', `must differ from LOCKER_PORT (${port}): with HTTPS the kiosk's plain-HTTP listener needs a port of its own`);
  }
  const smsOptions = readSmsOptions(r);
  const config: LockerConfig = {
    host: r.str('LOCKER_HOST', '0.0.0.0'),
    port,
    listen,
    loopbackPort,
    dataDir,
    lockerId,
    mapPath: resolve(r.str('LOCKER_MAP', EXAMPLE_MAP_PATH)),
    doors: r.oneOf('LOCKER_DOORS', 'sim', ['sim', 'onoff', 'gpiod', 'serial'] as const),
    sms,
    smsFile: resolve(dataDir, r.str('LOCKER_SMS_FILE', resolve(dataDir, 'sms.jsonl'))),
    smsPlainText: smsOptions.encoding === 'gsm7',
    smsHttp: sms === 'http' ? readHttpSms(r) : null,
    smsDevice: r.str('LOCKER_SMS_DEVICE', '/dev/ttyUSB2'),
    smsBaud: r.int('LOCKER_SMS_BAUD', 115200, 1200, 4_000_000),
    smsOptions,
    mqttUrl,
    mqttBase,
    mqtt: readMqtt(r, mqttUrl),
    sysfsRoot: r.str('LOCKER_SYSFS_ROOT', '/sys'),
    doorTiming: readDoorTiming(r),
    pickupDays: r.num('LOCKER_PICKUP_DAYS', 7, 0.001, 365),
    unlockWindowSec: r.int('LOCKER_UNLOCK_WINDOW_S', 30, 3, 600),
    sessionTtlMin: r.int('LOCKER_SESSION_TTL_MIN', 480, 1, 7 * 24 * 60),
    logLevel: r.oneOf('LOCKER_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    expirySweepSec: r.int('LOCKER_EXPIRY_SWEEP_S', 60, 1, 3600),
    loadingAlarmMin: r.num('LOCKER_LOADING_ALARM_MIN', 15, 0, 24 * 60),
    retentionDays: r.num('LOCKER_RETENTION_DAYS', DEFAULT_RETENTION_DAYS, 0, 3650),
    // --- Auditor view ---
    timeZone: readTimeZone(r),
    // --- kiosk voice (LOCKER_KIOSK_*) ---
    kiosk: {
      voice: r.oneOf('LOCKER_KIOSK_VOICE', 'on', ['on', 'off'] as const) === 'on',
      volume: r.int('LOCKER_KIOSK_VOLUME', 80, 0, 100),
      voiceDir: resolve(r.str('LOCKER_KIOSK_VOICE_DIR', DEFAULT_VOICE_DIR)),
    },

    // ---- Staff console: loading ----
    autoConfirm: r.bool('LOCKER_AUTO_CONFIRM', true),
  };
  checkSmsTexts(config);
  // Gateway settings may sit in the file while another channel is chosen.
  for (const k of ['URL', 'METHOD', 'HEADERS', 'BODY', 'TIMEOUT_MS', ...HTTP_PRESET_KEYS]) r.used.add(`LOCKER_SMS_HTTP_${k}`);
  for (const key of fileKeys.get(src) ?? []) {
    if (!r.used.has(key)) throw new ConfigError(key, 'unknown key in the config file (LOCKER_CONFIG)');
  }
  return config;
}

function readMqtt(r: Reader, url: string | null): MqttOptions {
  const file = (key: string) => {
    const v = r.optional(key);
    return v === null ? null : resolve(v);
  };
  const certFile = file('LOCKER_MQTT_CERT');
  const keyFile = file('LOCKER_MQTT_KEY');
  if ((certFile === null) !== (keyFile === null)) {
    throw new ConfigError(certFile ? 'LOCKER_MQTT_KEY' : 'LOCKER_MQTT_CERT', 'a client certificate needs both LOCKER_MQTT_CERT and LOCKER_MQTT_KEY');
  }
  const protocol = r.oneOf('LOCKER_MQTT_PROTOCOL', '5', ['5', '3.1.1'] as const);
  const username = r.optional('LOCKER_MQTT_USERNAME');
  const password = r.optional('LOCKER_MQTT_PASSWORD');
  const insecure = url === null ? [] : mqttWeaknesses(url, { username, password, certFile });
  if (insecure.length > 0 && !r.bool('LOCKER_MQTT_INSECURE', false)) throw new ConfigError('LOCKER_MQTT_URL', insecureMqttMessage('LOCKER', url!, insecure));
  r.used.add('LOCKER_MQTT_INSECURE');
  return {
    username,
    password,
    insecure,
    caFile: file('LOCKER_MQTT_CA'),
    certFile,
    keyFile,
    protocolVersion: protocol === '5' ? 5 : 4,
    keepaliveSec: r.int('LOCKER_MQTT_KEEPALIVE_S', 30, 5, 3600),
    sessionExpirySec: r.int('LOCKER_MQTT_SESSION_EXPIRY_S', 7 * 24 * 3600, 60, 0xffffffff),
    maxInFlight: r.int('LOCKER_MQTT_INFLIGHT', 1000, 1, 1000),
    publishTimeoutMs: r.int('LOCKER_MQTT_PUBLISH_TIMEOUT_MS', 15_000, 100, 600_000),
  };
}

function readDoorTiming(r: Reader): LockerConfig['doorTiming'] {
  // Simulated doors open only when someone clicks them: jam and ajar alarms are off unless asked for.
  const sim = r.oneOf('LOCKER_DOORS', 'sim', ['sim', 'onoff', 'gpiod', 'serial'] as const) === 'sim';
  return {
    jamSec: r.int('LOCKER_JAM_TIMEOUT_S', sim ? 0 : 10, 0, 120),
    ajarSec: r.int('LOCKER_AJAR_TIMEOUT_S', sim ? 0 : 120, 0, 86_400),
    debounceMs: r.int('LOCKER_DEBOUNCE_MS', 30, 0, 1000),
    pollMs: r.int('LOCKER_POLL_MS', 50, 10, 50),
  };
}

function readHttpSms(r: Reader): HttpSmsConfig {
  const url = r.optional('LOCKER_SMS_HTTP_URL');
  if (!url) throw new ConfigError('LOCKER_SMS_HTTP_URL', 'is required when LOCKER_SMS=http');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError('LOCKER_SMS_HTTP_URL', `must be an http:// or https:// URL, got "${url}"`);
  }
  let headers: Record<string, string> = {};
  const rawHeaders = r.optional('LOCKER_SMS_HTTP_HEADERS');
  if (rawHeaders) {
    try {
      const parsed = JSON.parse(rawHeaders);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
        throw new Error('shape');
      }
      headers = parsed;
    } catch {
      throw new ConfigError('LOCKER_SMS_HTTP_HEADERS', 'must be a JSON object of string header values');
    }
  }
  const method = r.oneOf('LOCKER_SMS_HTTP_METHOD', 'POST', ['POST', 'GET', 'PUT'] as const);
  const preset = r.oneOf('LOCKER_SMS_HTTP_PRESET', 'template', HTTP_PRESETS);
  const extras = {
    preset,
    successMatch: r.optional('LOCKER_SMS_HTTP_SUCCESS'),
    idempotent: r.bool('LOCKER_SMS_HTTP_IDEMPOTENT', false),
  };
  const timeoutMs = r.int('LOCKER_SMS_HTTP_TIMEOUT_MS', 10_000, 100, 120_000);
  if (preset === 'template') {
    return { url, method, headers, bodyTemplate: r.str('LOCKER_SMS_HTTP_BODY', '{"to":{{to}},"text":{{text}}}'), timeoutMs, ...extras };
  }
  const fields: PresetFields = { to: 'to', text: 'text', ...jsonObject(r, 'LOCKER_SMS_HTTP_FIELDS', (v) => typeof v === 'string' && v !== '') };
  const unknownField = Object.keys(fields).find((k) => !['to', 'text', 'id', 'key', 'unicode'].includes(k));
  if (unknownField) throw new ConfigError('LOCKER_SMS_HTTP_FIELDS', `names the fields to, text, id, key and unicode only, got "${unknownField}"`);
  const built = presetConfig({
    preset,
    url,
    apiKey: r.optional('LOCKER_SMS_HTTP_API_KEY'),
    apiKeyHeader: r.str('LOCKER_SMS_HTTP_API_KEY_HEADER', 'X-API-Key'),
    fields,
    extra: jsonObject(r, 'LOCKER_SMS_HTTP_EXTRA', (v) => ['string', 'number', 'boolean'].includes(typeof v)),
    phone: r.oneOf('LOCKER_SMS_HTTP_PHONE', 'local', PHONE_FORMATS),
  });
  // Headers given explicitly add to (and win over) the preset's.
  return { ...built, headers: { ...built.headers, ...headers }, timeoutMs, ...extras };
}

const HTTP_PRESET_KEYS = ['PRESET', 'SUCCESS', 'IDEMPOTENT', 'FIELDS', 'API_KEY', 'API_KEY_HEADER', 'EXTRA', 'PHONE'];

function jsonObject<T>(r: Reader, key: string, valid: (v: unknown) => boolean): Record<string, T> {
  const raw = r.optional(key);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(key, 'must be a JSON object');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every(valid)) {
    throw new ConfigError(key, 'must be a JSON object of plain values');
  }
  return parsed as Record<string, T>;
}

// ---- SMS texts: encoding, templates, dossier tail (one SMS per message) ----
// LOCKER_SMS_ENCODING chooses how texts go (gsm7 without diacritics, the default; ucs2 with them);
// the older LOCKER_SMS_PLAIN=true|false still means gsm7|ucs2 when LOCKER_SMS_ENCODING is not set.
function readSmsEncoding(r: Reader): SmsEncoding {
  const plain = r.optional('LOCKER_SMS_PLAIN') === null ? null : r.bool('LOCKER_SMS_PLAIN', false);
  const set = r.optional('LOCKER_SMS_ENCODING');
  if (set === null) return plain === false ? 'ucs2' : 'gsm7';
  const encoding = r.oneOf('LOCKER_SMS_ENCODING', 'gsm7', SMS_ENCODINGS);
  if (plain !== null && plain !== (encoding === 'gsm7')) {
    throw new ConfigError('LOCKER_SMS_PLAIN', `says ${plain}, but LOCKER_SMS_ENCODING=${encoding} says the opposite; set only LOCKER_SMS_ENCODING`);
  }
  return encoding;
}

/** What the start-up check needs from the map (read here so a bad template is refused with the config). */
function mapFacts(path: string): { location: string; maxCompartment?: number } {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as { location?: unknown; compartments?: { number?: unknown }[] };
    const numbers = (raw.compartments ?? []).map((c) => c.number).filter((n): n is number => typeof n === 'number');
    return { location: typeof raw.location === 'string' ? raw.location : '', maxCompartment: numbers.length > 0 ? Math.max(...numbers) : undefined };
  } catch {
    return { location: '' }; // the map's own loader says what is wrong with it
  }
}

/** Every template in use must fit one SMS in the encoding in use with its longest values, or no start. */
function checkSmsTexts(config: LockerConfig): void {
  const o = config.smsOptions;
  const facts = mapFacts(config.mapPath);
  const settings = { encoding: o.encoding ?? 'gsm7', templates: o.templates, office: o.office, location: facts.location, dossierTail: o.dossierTail ?? DEFAULT_DOSSIER_TAIL };
  for (const name of TEMPLATE_NAMES) {
    const problem = templateProblem(name, settings, facts);
    if (!problem) continue;
    const whose = o.templates[name] === null ? `the default text (with LOCKER_OFFICE_HOTLINE, LOCKER_OFFICE_HOURS and LOCKER_SMS_DOSSIER_TAIL as set) ${problem}; shorten them or set this template` : problem;
    throw new ConfigError(TEMPLATE_KEYS[name], whose);
  }
}

function readSmsOptions(r: Reader): SmsOptions {
  const templates = Object.fromEntries(
    TEMPLATE_NAMES.map((name) => {
      const key = TEMPLATE_KEYS[name];
      const t = r.optional(key);
      if (t === null) return [name, null];
      const problem = templateShapeProblem(name, t);
      if (problem) throw new ConfigError(key, problem);
      return [name, t];
    }),
  ) as SmsTemplates;
  const officeText = (key: string) => {
    const v = r.optional(key);
    if (v === null) return null;
    const problem = officeTextProblem(v.trim());
    if (problem) throw new ConfigError(key, problem);
    return v.trim();
  };
  const receipts = r.bool('LOCKER_SMS_RECEIPT', true);
  const receiptDelayS = r.int('LOCKER_SMS_RECEIPT_DELAY_S', 30, 0, 3600);
  return {
    templates,
    encoding: readSmsEncoding(r),
    dossierTail: r.int('LOCKER_SMS_DOSSIER_TAIL', DEFAULT_DOSSIER_TAIL, 4, 12),
    reminderBeforeMs: Math.round(r.num('LOCKER_SMS_REMINDER_H', 24, 0, 24 * 365) * 3600_000),
    receiptDelayMs: receipts ? receiptDelayS * 1000 : null,
    phoneLimit: r.int('LOCKER_SMS_PHONE_LIMIT', 6, 1, 1000),
    phoneWindowMs: r.int('LOCKER_SMS_PHONE_WINDOW_MIN', 60, 1, 7 * 24 * 60) * 60_000,
    modemCheckMs: r.int('LOCKER_SMS_MODEM_CHECK_S', 60, 5, 3600) * 1000,
    modemAlarmMs: r.int('LOCKER_SMS_MODEM_ALARM_S', 120, 0, 86_400) * 1000,
    office: { hotline: officeText('LOCKER_OFFICE_HOTLINE'), hours: officeText('LOCKER_OFFICE_HOURS') },
  };
}

// --- Auditor view ---
/** The office's time zone, by its IANA name; refused at start when this runtime does not know it. */
function readTimeZone(r: Reader): string {
  const zone = r.str('LOCKER_TIMEZONE', 'Asia/Ho_Chi_Minh');
  if (!isTimeZone(zone)) throw new ConfigError('LOCKER_TIMEZONE', `unknown time zone "${zone}" (an IANA name such as Asia/Ho_Chi_Minh)`);
  return zone;
}
