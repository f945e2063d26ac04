// How the locker's MQTT client is configured from the environment, and what it does with no broker.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { clientOptions, redactUrl } from '../../server/mqtt/connection.ts';
import { lockerTopics } from '../../server/mqtt/topics.ts';
import { startBroker } from '../helpers/broker.ts';
import { startLocker, tempDir } from '../helpers/locker.ts';
import { captureLogger } from '../reliability/lib/capture.ts';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (env: Record<string, string>) => loadConfig({ LOCKER_DATA_DIR: dir, ...env });
const optionsFor = (env: Record<string, string>) => {
  const c = config({ LOCKER_MQTT_URL: 'mqtts://broker.example:8883', LOCKER_MQTT_USERNAME: 'locker-1', LOCKER_MQTT_PASSWORD: 'pw-for-tests', ...env });
  return clientOptions(c, lockerTopics(c.mqttBase, c.lockerId));
};

describe('MQTT client configuration', () => {
  it('uses MQTT 5 with a persistent session, the locker id as client id and a retained offline will', () => {
    const o = optionsFor({ LOCKER_ID: 'hcm-q1-02', LOCKER_MQTT_BASE: 'dvc/lockers' });
    expect(o).toMatchObject({ clientId: 'hcm-q1-02', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 604800 } });
    expect(o.will).toMatchObject({ topic: 'dvc/lockers/hcm-q1-02/availability', qos: 1, retain: true });
    expect(JSON.parse(o.will!.payload.toString())).toEqual({ state: 'offline' });
  });

  it('speaks MQTT 3.1.1 when asked, keeping the session with clean=false', () => {
    const o = optionsFor({ LOCKER_MQTT_PROTOCOL: '3.1.1' });
    expect(o).toMatchObject({ protocolVersion: 4, clean: false });
    expect(o.properties).toBeUndefined();
  });

  it('passes credentials and reads the TLS files', () => {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
    const o = optionsFor({
      LOCKER_MQTT_USERNAME: 'locker-1',
      LOCKER_MQTT_PASSWORD: 's3cret-pass',
      LOCKER_MQTT_CA: join(dir, 'ca.pem'),
      LOCKER_MQTT_CERT: join(dir, 'cert.pem'),
      LOCKER_MQTT_KEY: join(dir, 'key.pem'),
    });
    expect(o).toMatchObject({ username: 'locker-1', password: 's3cret-pass', rejectUnauthorized: true });
    expect(String(o.ca)).toBe('-----ca.pem-----');
    expect(String(o.cert)).toBe('-----cert.pem-----');
    expect(String(o.key)).toBe('-----key.pem-----');
  });

  it('names the setting when a TLS file cannot be read or half a client certificate is given', () => {
    expect(() => optionsFor({ LOCKER_MQTT_CA: join(dir, 'missing.pem') })).toThrow(/LOCKER_MQTT_CA: cannot read/);
    expect(() => config({ LOCKER_MQTT_CERT: join(dir, 'cert.pem') })).toThrow(/LOCKER_MQTT_KEY/);
    expect(() => config({ LOCKER_MQTT_PROTOCOL: '3' })).toThrow(/LOCKER_MQTT_PROTOCOL: must be one of 5, 3.1.1/);
    expect(() => config({ LOCKER_MQTT_INFLIGHT: '0' })).toThrow(/LOCKER_MQTT_INFLIGHT/);
  });

  it('never shows credentials from the broker URL', () => {
    expect(redactUrl('mqtts://locker-1:pa55@broker.example:8883')).toBe('mqtts://broker.example:8883');
  });
});

describe('without a broker', () => {
  it('runs, reports MQTT as disabled, and keeps every event in the outbox', async () => {
    const t = await startLocker();
    try {
      t.sim.setDoor(4, true);
      t.sim.setDoor(4, false);
      const h = (await t.api('GET', '/healthz')).body;
      expect(h.mqtt).toEqual({ state: 'disabled', outbox: t.locker.ctx.audit.latestSeq(), inFlight: 0 });
      expect(h.mqtt.outbox).toBeGreaterThanOrEqual(2);
      const metrics = (await t.api('GET', '/metrics')).body as string;
      expect(metrics).toMatch(new RegExp(`locker_outbox_depth ${h.mqtt.outbox}`));
      expect(metrics).toMatch(/locker_mqtt_connected 0/);
    } finally {
      await t.stop();
    }
  });
});

describe('an insecure broker link', () => {
  it('says so on /healthz and warns once at start when run by permission (LOCKER_MQTT_INSECURE=true)', async () => {
    const log = captureLogger('info');
    // A broker off this host (TEST-NET, never answers) over plain mqtt:// without credentials.
    const t = await startLocker({ env: { LOCKER_MQTT_URL: 'mqtt://192.0.2.1:1883', LOCKER_MQTT_INSECURE: 'true' }, overrides: { logger: log.logger } });
    try {
      const h = (await t.api('GET', '/healthz')).body;
      expect(h.mqtt).toMatchObject({ broker: 'mqtt://192.0.2.1:1883', insecure: true });
      const warnings = log.lines.filter((l) => l.includes('LOCKER_MQTT_INSECURE'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0])).toMatchObject({ level: 40, weaknesses: ['plain mqtt://', 'no credentials'] });
    } finally {
      await t.stop();
    }
  });

  it('is not reported for a broker on this host', async () => {
    const broker = await startBroker();
    const log = captureLogger('info');
    const t = await startLocker({ env: { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting }, overrides: { logger: log.logger } });
    try {
      const h = (await t.api('GET', '/healthz')).body;
      expect(h.mqtt.insecure).toBe(false);
      expect(log.lines.filter((l) => l.includes('INSECURE'))).toEqual([]);
    } finally {
      await t.stop();
      await broker.close();
    }
  });
});
