// HTTPS and connection-cap settings, for the locker (LOCKER_*) and the central service (CENTRAL_*).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCentralConfig } from '../../server/central/config.ts';
import { ConfigError, loadConfig } from '../../server/config/load.ts';
import { tempDir } from '../helpers/locker.ts';
import { makeServerCert } from '../helpers/tls.ts';

const dir = tempDir('locker-listen-cfg-');
const cert = makeServerCert(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).field;
  }
  return '(no error)';
}

describe('HTTPS and connection settings', () => {
  it('refuses one of LOCKER_TLS_CERT / LOCKER_TLS_KEY without the other, naming the missing one', () => {
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_CERT: cert.certFile }))).toBe('LOCKER_TLS_KEY');
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_KEY: cert.keyFile }))).toBe('LOCKER_TLS_CERT');
    expect(fieldOf(() => loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtt://127.0.0.1', CENTRAL_TLS_CERT: cert.certFile }))).toBe('CENTRAL_TLS_KEY');
    expect(fieldOf(() => loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtt://127.0.0.1', CENTRAL_TLS_KEY: cert.keyFile }))).toBe('CENTRAL_TLS_CERT');
  });

  it('refuses an unreadable or non-PEM file, naming its variable', () => {
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_CERT: join(dir, 'missing.crt'), LOCKER_TLS_KEY: cert.keyFile }))).toBe('LOCKER_TLS_CERT');
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_CERT: cert.certFile, LOCKER_TLS_KEY: join(dir, 'junk.pem') }))).toBe('LOCKER_TLS_KEY');
    // The key where the certificate belongs.
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_CERT: cert.keyFile, LOCKER_TLS_KEY: cert.keyFile }))).toBe('LOCKER_TLS_CERT');
  });

  it('takes both, with the loopback port on its own', () => {
    const c = loadConfig({ LOCKER_TLS_CERT: cert.certFile, LOCKER_TLS_KEY: cert.keyFile });
    expect(c.listen.tls).toEqual({ certFile: cert.certFile, keyFile: cert.keyFile });
    expect(c.loopbackPort).toBe(8081);
    expect(fieldOf(() => loadConfig({ LOCKER_TLS_CERT: cert.certFile, LOCKER_TLS_KEY: cert.keyFile, LOCKER_PORT: '8443', LOCKER_LOOPBACK_PORT: '8443' }))).toBe('LOCKER_LOOPBACK_PORT');
  });

  it('has caps and timeouts by default, and checks them', () => {
    expect(loadConfig({}).listen).toEqual({
      tls: null,
      limits: { perAddress: 32, total: 512, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 60_000 },
    });
    expect(fieldOf(() => loadConfig({ LOCKER_MAX_CONNECTIONS_PER_ADDRESS: '0' }))).toBe('LOCKER_MAX_CONNECTIONS_PER_ADDRESS');
    expect(fieldOf(() => loadConfig({ LOCKER_MAX_CONNECTIONS: 'many' }))).toBe('LOCKER_MAX_CONNECTIONS');
    expect(fieldOf(() => loadConfig({ LOCKER_HTTP_HEADERS_TIMEOUT_MS: '20000', LOCKER_HTTP_REQUEST_TIMEOUT_MS: '10000' }))).toBe('LOCKER_HTTP_REQUEST_TIMEOUT_MS');
    expect(loadCentralConfig({ CENTRAL_MQTT_URL: 'mqtt://127.0.0.1', CENTRAL_MAX_CONNECTIONS_PER_ADDRESS: '7' }).listen.limits.perAddress).toBe(7);
  });
});
