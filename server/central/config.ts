// The central audit service's settings, all from CENTRAL_* environment variables (contract
// "Central audit service"). Checked up front so a typo fails start-up by name.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../config/load.ts';
import { insecureMqttMessage, mqttWeaknesses } from '../config/mqtt-security.ts';
import { readListenSettings, type ListenSettings } from '../config/listen.ts';

export interface CentralMqttOptions {
  url: string | null;
  base: string;
  /** Stable per instance: the broker keeps this instance's persistent session under it. */
  clientId: string;
  /** Shared-subscription group: every instance of one central office uses the same one. */
  group: string;
  username: string | null;
  password: string | null;
  /** What makes the link insecure, run anyway because CENTRAL_MQTT_INSECURE=true (empty: a secure or local link). */
  insecure: string[];
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  keepaliveSec: number;
  sessionExpirySec: number;
  /** How many unacknowledged messages the broker may send at once (MQTT 5 receive maximum). */
  receiveMaximum: number;
}

export interface CentralConfig {
  host: string;
  port: number;
  /** HTTPS and connection caps of the listener (CENTRAL_TLS_*, CENTRAL_MAX_CONNECTIONS*, CENTRAL_HTTP_*). */
  listen: ListenSettings;
  dataDir: string;
  databaseUrl: string | null;
  /** PostgreSQL schema to use (created if missing); unset: the server's search_path. */
  databaseSchema: string | null;
  mqtt: CentralMqttOptions;
  logLevel: string;
  sessionTtlMin: number;
  /** A missing seq becomes an alarm once it has stayed missing this long (reordering is normal). */
  gapGraceSec: number;
  /** How long an admin's command waits for the locker's answer before it is reported pending. */
  commandTimeoutMs: number;
  /** Ask a locker to publish its missing events again once a gap alarm is open (events/republish). */
  gapRepublish: boolean;
  /** ...and again this often while the gap stays. */
  gapRepublishEverySec: number;
}

type Source = Record<string, string | undefined>;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadCentralConfig(src: Source = process.env, opts: { requireMqtt?: boolean } = {}): CentralConfig {
  const str = (key: string, def: string) => {
    const v = src[key];
    return v === undefined || v === '' ? def : v;
  };
  const optional = (key: string) => {
    const v = src[key];
    return v === undefined || v === '' ? null : v;
  };
  const int = (key: string, def: number, min: number, max: number) => {
    const v = src[key];
    if (v === undefined || v === '') return def;
    if (!/^\d+$/.test(v.trim())) throw new ConfigError(key, `must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  const bool = (key: string, def: boolean) => {
    const v = optional(key);
    if (v === null) return def;
    if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
    throw new ConfigError(key, `must be true or false, got "${v}"`);
  };
  const file = (key: string) => {
    const v = optional(key);
    return v === null ? null : resolve(v);
  };

  const url = optional('CENTRAL_MQTT_URL');
  if (url === null && opts.requireMqtt !== false) {
    throw new ConfigError('CENTRAL_MQTT_URL', 'is required: the broker the lockers publish to (mqtt:// or mqtts://)');
  }
  if (url !== null && !/^mqtts?:\/\/[^/]+/.test(url)) throw new ConfigError('CENTRAL_MQTT_URL', `must start with mqtt:// or mqtts://, got "${url}"`);
  const base = str('CENTRAL_MQTT_BASE', 'locker');
  if (/[#+]/.test(base) || base.startsWith('/') || base.endsWith('/') || base.startsWith('$')) {
    throw new ConfigError('CENTRAL_MQTT_BASE', 'must be a topic without wildcards, a leading "$" or leading/trailing "/"');
  }
  const segment = /^[A-Za-z0-9_.-]{1,100}$/;
  const clientId = str('CENTRAL_MQTT_CLIENT_ID', `central-${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 60)}`);
  if (!segment.test(clientId)) throw new ConfigError('CENTRAL_MQTT_CLIENT_ID', 'must be 1-100 letters, digits, ".", "-" or "_"');
  const group = str('CENTRAL_MQTT_GROUP', 'central');
  if (!segment.test(group)) throw new ConfigError('CENTRAL_MQTT_GROUP', 'must be 1-100 letters, digits, ".", "-" or "_" (a share name)');
  const certFile = file('CENTRAL_MQTT_CERT');
  const keyFile = file('CENTRAL_MQTT_KEY');
  if ((certFile === null) !== (keyFile === null)) {
    throw new ConfigError(certFile ? 'CENTRAL_MQTT_KEY' : 'CENTRAL_MQTT_CERT', 'a client certificate needs both CENTRAL_MQTT_CERT and CENTRAL_MQTT_KEY');
  }
  const username = optional('CENTRAL_MQTT_USERNAME');
  const password = optional('CENTRAL_MQTT_PASSWORD');
  const insecure = url === null ? [] : mqttWeaknesses(url, { username, password, certFile });
  if (insecure.length > 0 && !bool('CENTRAL_MQTT_INSECURE', false)) throw new ConfigError('CENTRAL_MQTT_URL', insecureMqttMessage('CENTRAL', url!, insecure));
  const databaseUrl = optional('CENTRAL_DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('CENTRAL_DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const databaseSchema = optional('CENTRAL_DATABASE_SCHEMA');
  if (databaseSchema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError('CENTRAL_DATABASE_SCHEMA', 'must be a lower-case SQL identifier (letters, digits, "_")');
  }
  const logLevel = str('CENTRAL_LOG_LEVEL', 'info');
  if (!(LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError('CENTRAL_LOG_LEVEL', `must be one of ${LEVELS.join(', ')}`);

  const listen = readListenSettings({ optional, int }, 'CENTRAL');

  return {
    host: str('CENTRAL_HOST', '0.0.0.0'),
    port: int('CENTRAL_PORT', 8090, 0, 65535),
    listen,
    dataDir: resolve(str('CENTRAL_DATA_DIR', './data-central')),
    databaseUrl,
    databaseSchema,
    mqtt: {
      url,
      base,
      clientId,
      group,
      username,
      password,
      insecure,
      caFile: file('CENTRAL_MQTT_CA'),
      certFile,
      keyFile,
      keepaliveSec: int('CENTRAL_MQTT_KEEPALIVE_S', 30, 5, 3600),
      sessionExpirySec: int('CENTRAL_MQTT_SESSION_EXPIRY_S', 7 * 24 * 3600, 60, 0xffffffff),
      receiveMaximum: int('CENTRAL_MQTT_RECEIVE_MAX', 64, 1, 65535),
    },
    logLevel,
    sessionTtlMin: int('CENTRAL_SESSION_TTL_MIN', 480, 1, 7 * 24 * 60),
    gapGraceSec: int('CENTRAL_GAP_GRACE_S', 60, 0, 24 * 3600),
    commandTimeoutMs: int('CENTRAL_COMMAND_TIMEOUT_MS', 10_000, 100, 120_000),
    gapRepublish: bool('CENTRAL_GAP_REPUBLISH', true),
    gapRepublishEverySec: int('CENTRAL_GAP_REPUBLISH_EVERY_S', 600, 1, 7 * 24 * 3600),
  };
}
