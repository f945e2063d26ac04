import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig } from '../../server/central/config.ts';
import { centralTopics } from '../../server/central/mqtt/topics.ts';

describe('central configuration', () => {
  it('takes the contract\'s defaults', () => {
    const c = loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtt://127.0.0.1:1883' });
    expect(c).toMatchObject({ port: 8090, dataDir: resolve('./data-central'), databaseUrl: null, mqtt: { url: 'mqtt://127.0.0.1:1883', base: 'locker', group: 'central' } });
    expect(c.mqtt.clientId).toMatch(/^central-/);
    expect(c.mqtt.sessionExpirySec).toBeGreaterThan(0);
  });

  it('names the variable that is wrong', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{}, /CENTRAL_MQTT_URL: is required/],
      [{ CENTRAL_MQTT_URL: 'tcp://x' }, /CENTRAL_MQTT_URL: must start with mqtt/],
      [{ CENTRAL_PORT: '80a' }, /CENTRAL_PORT: must be a whole number/],
      [{ CENTRAL_PORT: '70000' }, /CENTRAL_PORT: must be between/],
      [{ CENTRAL_MQTT_BASE: 'locker/#' }, /CENTRAL_MQTT_BASE/],
      [{ CENTRAL_MQTT_GROUP: 'a/b' }, /CENTRAL_MQTT_GROUP/],
      [{ CENTRAL_MQTT_CERT: '/tmp/c.pem' }, /CENTRAL_MQTT_KEY/],
      [{ CENTRAL_DATABASE_URL: 'mysql://db' }, /CENTRAL_DATABASE_URL: must be a postgres/],
      [{ CENTRAL_DATABASE_SCHEMA: 'Drop Table' }, /CENTRAL_DATABASE_SCHEMA/],
      [{ CENTRAL_MQTT_SESSION_EXPIRY_S: '0' }, /CENTRAL_MQTT_SESSION_EXPIRY_S/],
      [{ CENTRAL_LOG_LEVEL: 'loud' }, /CENTRAL_LOG_LEVEL/],
      [{ CENTRAL_GAP_REPUBLISH: 'maybe' }, /CENTRAL_GAP_REPUBLISH: must be true or false/],
    ];
    for (const [env, message] of bad) {
      const src = 'CENTRAL_MQTT_URL' in env || Object.keys(env).length === 0 ? env : { CENTRAL_MQTT_URL: 'mqtt://localhost', ...env };
      expect(() => loadCentralConfig(src)).toThrow(message);
    }
    expect(loadCentralConfig({}, { requireMqtt: false }).mqtt.url).toBeNull();
  });

  it('refuses a broker off this host over plain mqtt:// or without credentials unless CENTRAL_MQTT_INSECURE=true', () => {
    for (const env of [
      { CENTRAL_MQTT_URL: 'mqtt://broker.example:1883' },
      { CENTRAL_MQTT_URL: 'mqtt://10.0.0.5:1883', CENTRAL_MQTT_USERNAME: 'central', CENTRAL_MQTT_PASSWORD: 'long-secret' },
      { CENTRAL_MQTT_URL: 'mqtts://broker.example:8883' },
    ]) {
      expect(() => loadCentralConfig(env), JSON.stringify(env)).toThrow(/^config: CENTRAL_MQTT_URL: .*CENTRAL_MQTT_INSECURE=true/);
      expect(loadCentralConfig({ ...env, CENTRAL_MQTT_INSECURE: 'true' }).mqtt.insecure.length).toBeGreaterThan(0);
    }
    expect(loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtts://broker.example:8883', CENTRAL_MQTT_USERNAME: 'central', CENTRAL_MQTT_PASSWORD: 'long-secret' }).mqtt.insecure).toEqual([]);
    expect(loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtt://127.0.0.1:1883' }).mqtt.insecure).toEqual([]);
  });

  it('subscribes through shared subscriptions and reads each topic back', () => {
    const t = centralTopics('prov/hcm', 'central');
    expect(t.shared).toEqual(['$share/central/prov/hcm/+/events', '$share/central/prov/hcm/+/availability', '$share/central/prov/hcm/+/state']);
    expect(t.parse('prov/hcm/lk-1/events')).toEqual({ locker: 'lk-1', kind: 'events' });
    expect(t.parse('prov/hcm/lk-1/response/compartment/disable')).toEqual({ locker: 'lk-1', kind: 'response', command: 'compartment/disable' });
    expect(t.parse('prov/hcm/lk-1/request/state/get')).toBeNull();
    expect(t.parse('other/lk-1/events')).toBeNull();
    expect(t.request('lk-1', 'state/get')).toBe('prov/hcm/lk-1/request/state/get');
  });
});
