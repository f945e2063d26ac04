// Every setting, its environment variable, its default and its check. A config file
// (LOCKER_CONFIG, JSON with the same keys) may supply any of them; the environment wins.
import type { SmsEncoding } from '../sms/encoding.ts';
import type { SmsTemplates } from '../sms/templates.ts';
import type { ListenSettings } from './listen.ts';

export type DoorDriverName = 'sim' | 'onoff' | 'gpiod' | 'serial';
export type SmsChannelName = 'file' | 'http' | 'modem';

export interface HttpSmsConfig {
  url: string;
  method: 'POST' | 'GET' | 'PUT';
  headers: Record<string, string>;
  bodyTemplate: string;
  timeoutMs: number;
  /** Which preset built url/method/headers/body (README "SMS"); `template` = as configured. */
  preset?: string;
  /** A 2xx answer counts only if its body contains this (gateways that answer 200 with an error code). */
  successMatch?: string | null;
  /** The gateway deduplicates by {{id}}: a message interrupted by a crash may be sent again. */
  idempotent?: boolean;
}

/** SMS behaviour beyond the channel (README "SMS"). */
export interface SmsOptions {
  /** Replacement texts (placeholders in braces), one per kind of message; null = the Vietnamese default. */
  templates: SmsTemplates;
  /** gsm7: no diacritics, 160 septets per SMS (the default); ucs2: diacritics, 70 characters (LOCKER_SMS_ENCODING). */
  encoding?: SmsEncoding;
  /** Trailing characters of the dossier code that the texts show (LOCKER_SMS_DOSSIER_TAIL). */
  dossierTail?: number;
  /** Reminder this long before the pickup deadline; 0 = no reminder. */
  reminderBeforeMs: number;
  /** Receipt this long after a pickup; null = no receipts. */
  receiptDelayMs: number | null;
  /** At most `phoneLimit` messages to one phone within `phoneWindowMs`; more wait. */
  phoneLimit: number;
  phoneWindowMs: number;
  /** Modem: how often SIM, registration and signal are checked; how long it may be down before an alarm. */
  modemCheckMs: number;
  modemAlarmMs: number;
  /** The office's hotline and hours (LOCKER_OFFICE_HOTLINE, LOCKER_OFFICE_HOURS), named in the code-locked and expiry notices. */
  office?: { hotline: string | null; hours: string | null };
}

/** How the locker talks to its broker (LOCKER_MQTT_*); see server/mqtt/README.md. */
export interface MqttOptions {
  username: string | null;
  password: string | null;
  /** What makes the link insecure, run anyway because LOCKER_MQTT_INSECURE=true (empty: a secure or local link). */
  insecure: string[];
  /** PEM files: the CA that signed the broker, and this locker's client certificate and key. */
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  /** 5 (MQTT 5, the default) or 4 (MQTT 3.1.1). */
  protocolVersion: 4 | 5;
  keepaliveSec: number;
  sessionExpirySec: number;
  maxInFlight: number;
  publishTimeoutMs: number;
}

export interface LockerConfig {
  host: string;
  port: number;
  /** HTTPS and connection caps of the listener (LOCKER_TLS_*, LOCKER_MAX_CONNECTIONS*, LOCKER_HTTP_*). */
  listen: ListenSettings;
  /** With HTTPS: the plain-HTTP port on 127.0.0.1 for the Pi's own kiosk screen (0 = any free port). */
  loopbackPort: number;
  dataDir: string;
  lockerId: string;
  mapPath: string;
  doors: DoorDriverName;
  sms: SmsChannelName;
  smsFile: string;
  /** Texts without diacritics: true exactly when smsOptions.encoding is gsm7 (kept for older callers). */
  smsPlainText: boolean;
  smsHttp: HttpSmsConfig | null;
  smsDevice: string;
  smsBaud: number;
  smsOptions: SmsOptions;
  mqttUrl: string | null;
  mqttBase: string;
  mqtt: MqttOptions;
  sysfsRoot: string;
  /** Door hardware: jam and ajar timeouts (0 = off), sensor debounce and poll interval. */
  doorTiming: { jamSec: number; ajarSec: number; debounceMs: number; pollMs: number };
  pickupDays: number;
  unlockWindowSec: number;
  sessionTtlMin: number;
  logLevel: string;
  expirySweepSec: number;
  /** Minutes a dossier may stay in `loading` before `dossier.loading_stale` (0: never). */
  loadingAlarmMin: number;
  /** Days after a dossier is closed before its phone number and code hash are erased (LOCKER_RETENTION_DAYS). */
  retentionDays: number;
  // --- Auditor view ---
  /** IANA zone of the office's wall clock (LOCKER_TIMEZONE): audit times on screen and in the CSV. */
  timeZone: string;
  // --- kiosk voice (LOCKER_KIOSK_*) ---
  /** The kiosk's spoken prompts: on/off, loudness 0-100, and the folder of WAV files made by `npm run build`. */
  kiosk: KioskSettings;
  // ---- Staff console: loading ----
  /** LOCKER_AUTO_CONFIRM: a door opened and shut after the loading unlock confirms its dossier (default true). */
  autoConfirm: boolean;
}

/** The kiosk's voice: WAV files made from the kiosk's texts with espeak-ng (server/web/voice/render.mjs). */
export interface KioskSettings {
  /** LOCKER_KIOSK_VOICE=on|off (default on). */
  voice: boolean;
  /** LOCKER_KIOSK_VOLUME 0-100 (default 80). */
  volume: number;
  /** LOCKER_KIOSK_VOICE_DIR: where the clips are (default server/dist/voice in the app folder). */
  voiceDir: string;
}
