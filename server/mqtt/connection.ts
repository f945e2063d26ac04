// The one place that knows how this locker connects to its broker: credentials, TLS files,
// protocol version, persistent session, client id and the last will. Everything else in
// server/mqtt talks to the client this returns.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { LockerConfig } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import { OFFLINE, type LockerTopics } from './topics.ts';

/** Client options for this locker; reads the TLS files, so a missing one fails start-up by name. */
export function clientOptions(config: LockerConfig, topics: LockerTopics): IClientOptions {
  const o = config.mqtt;
  const read = (key: string, path: string | null) => {
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const options: IClientOptions = {
    clientId: config.lockerId,
    protocolVersion: o.protocolVersion,
    // A persistent session: commands sent while the uplink is down wait at the broker, and
    // unacknowledged publishes are resent on reconnect.
    clean: false,
    keepalive: o.keepaliveSec,
    reconnectPeriod: 1000,
    connectTimeout: 15_000,
    // Subscriptions are renewed on every connect by the link itself.
    resubscribe: false,
    manualConnect: true,
    will: { topic: topics.availability, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    rejectUnauthorized: true,
  };
  // MQTT 5 keeps no session after the connection ends unless it is told how long to keep it.
  if (o.protocolVersion === 5) options.properties = { sessionExpiryInterval: o.sessionExpirySec };
  if (o.username !== null) options.username = o.username;
  if (o.password !== null) options.password = o.password;
  const ca = read('LOCKER_MQTT_CA', o.caFile);
  const cert = read('LOCKER_MQTT_CERT', o.certFile);
  const key = read('LOCKER_MQTT_KEY', o.keyFile);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  return options;
}

export function createClient(url: string, options: IClientOptions): MqttClient {
  return mqtt.connect(url, options);
}

/** The broker URL without credentials, for logs and /healthz. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable url)';
  }
}
