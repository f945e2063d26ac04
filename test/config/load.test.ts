import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configSource, loadConfig } from '../../server/config/load.ts';

describe('configuration', () => {
  it('starts with embedded defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, lockerId: 'locker-1', doors: 'sim', sms: 'file', mqttUrl: null, mqttBase: 'locker', pickupDays: 7 });
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.smsFile).toBe(join(c.dataDir, 'sms.jsonl'));
  });

  it('names the field that is wrong', () => {
    const cases: [Record<string, string>, string][] = [
      [{ LOCKER_PORT: 'eighty' }, 'LOCKER_PORT'],
      [{ LOCKER_PORT: '70000' }, 'LOCKER_PORT'],
      [{ LOCKER_DOORS: 'relay' }, 'LOCKER_DOORS'],
      [{ LOCKER_SMS: 'pigeon' }, 'LOCKER_SMS'],
      [{ LOCKER_MQTT_URL: 'http://broker' }, 'LOCKER_MQTT_URL'],
      [{ LOCKER_ID: 'a/b' }, 'LOCKER_ID'],
      [{ LOCKER_SMS: 'http' }, 'LOCKER_SMS_HTTP_URL'],
      [{ LOCKER_PICKUP_DAYS: '-1' }, 'LOCKER_PICKUP_DAYS'],
    ];
    for (const [env, field] of cases) {
      let err: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe(field);
      expect((err as Error).message).toContain(field);
    }
  });

  it('reads a config file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'locker.json');
    writeFileSync(file, JSON.stringify({ LOCKER_PORT: 9001, LOCKER_ID: 'from-file' }));
    const c = loadConfig(configSource({ LOCKER_CONFIG: file, LOCKER_ID: 'from-env' }));
    expect(c.port).toBe(9001);
    expect(c.lockerId).toBe('from-env');
    writeFileSync(file, JSON.stringify({ LOCKER_PROT: 1 }));
    expect(() => loadConfig(configSource({ LOCKER_CONFIG: file }))).toThrow(/LOCKER_PROT/);
  });

  it('refuses a broker off this host over plain mqtt:// or without credentials unless LOCKER_MQTT_INSECURE=true, and accepts one on this host', () => {
    const refused = [
      { LOCKER_MQTT_URL: 'mqtt://broker.example:1883' },
      { LOCKER_MQTT_URL: 'mqtt://192.168.1.20:1883', LOCKER_MQTT_USERNAME: 'locker-1', LOCKER_MQTT_PASSWORD: 'long-secret' },
      { LOCKER_MQTT_URL: 'mqtts://broker.example:8883' },
      { LOCKER_MQTT_URL: 'mqtts://broker.example:8883', LOCKER_MQTT_USERNAME: 'locker-1' },
    ];
    for (const env of refused) {
      let err: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('LOCKER_MQTT_URL');
      expect((err as Error).message).toContain('LOCKER_MQTT_INSECURE=true');
      expect((err as Error).message).not.toContain('long-secret');
      expect((err as Error).message).not.toContain('\n');
      expect(loadConfig({ ...env, LOCKER_MQTT_INSECURE: 'true' }).mqtt.insecure.length).toBeGreaterThan(0);
    }
    expect(loadConfig({ LOCKER_MQTT_URL: 'mqtt://broker.example:1883', LOCKER_MQTT_INSECURE: 'true' }).mqtt.insecure).toEqual(['plain mqtt://', 'no credentials']);
    expect(() => loadConfig({ LOCKER_MQTT_URL: 'mqtt://broker.example', LOCKER_MQTT_INSECURE: 'maybe' })).toThrow(/LOCKER_MQTT_INSECURE: must be true or false/);
    const fine = [
      { LOCKER_MQTT_URL: 'mqtts://broker.example:8883', LOCKER_MQTT_USERNAME: 'locker-1', LOCKER_MQTT_PASSWORD: 'long-secret' },
      { LOCKER_MQTT_URL: 'mqtts://locker-1:long-secret@broker.example:8883' },
      { LOCKER_MQTT_URL: 'mqtts://broker.example:8883', LOCKER_MQTT_CERT: '/etc/locker/c.pem', LOCKER_MQTT_KEY: '/etc/locker/k.pem' },
      { LOCKER_MQTT_URL: 'mqtt://127.0.0.1:1883' },
      { LOCKER_MQTT_URL: 'mqtt://127.8.9.10:1883' },
      { LOCKER_MQTT_URL: 'mqtt://localhost:1883' },
      { LOCKER_MQTT_URL: 'mqtt://[::1]:1883' },
    ];
    for (const env of fine) expect(loadConfig(env).mqtt.insecure, JSON.stringify(env)).toEqual([]);
  });
});
