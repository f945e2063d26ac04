// HTTPS on the locker's listener (LOCKER_TLS_CERT / LOCKER_TLS_KEY), with a real certificate made
// by openssl, and the plain-HTTP loopback listener the Pi's kiosk screen uses.
import http from 'node:http';
import https from 'node:https';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { makeServerCert, type TestCert } from '../helpers/tls.ts';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, opts: { ca?: Buffer; method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(
      u,
      { method: opts.method ?? 'GET', agent: false, ca: opts.ca, timeout: 5_000, headers: opts.body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const dir = tempDir('locker-https-');
let cert: TestCert;
let t: TestLocker;

beforeAll(async () => {
  cert = makeServerCert(dir);
  t = await startLocker({ env: { LOCKER_TLS_CERT: cert.certFile, LOCKER_TLS_KEY: cert.keyFile, LOCKER_LOOPBACK_PORT: '0' } });
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS with LOCKER_TLS_CERT and LOCKER_TLS_KEY', () => {
  it('answers over HTTPS on the main port with Strict-Transport-Security, a staff login included', async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(`${t.url}/healthz`, { ca: cert.cert });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).status).toBe('ok');
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    await t.locker.ctx.auth.addUser('clerk', 'staff', 'a long clerk password');
    const login = await get(`${t.url}/api/v1/session`, { ca: cert.cert, method: 'POST', body: JSON.stringify({ username: 'clerk', password: 'a long clerk password' }) });
    expect(login.status).toBe(200);
    expect(JSON.parse(login.body).token).toEqual(expect.any(String));
    expect(login.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('does not speak plain HTTP on the main port: a password sent in clear gets no answer', async () => {
    const plain = t.url.replace('https://', 'http://');
    await expect(get(`${plain}/api/v1/session`, { method: 'POST', body: JSON.stringify({ username: 'clerk', password: 'a long clerk password' }) })).rejects.toThrow();
    await expect(get(`${plain}/healthz`)).rejects.toThrow();
  });

  it('refuses a client that does not trust the certificate (no silent fallback)', async () => {
    await expect(get(`${t.url}/healthz`)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('serves the kiosk page over plain HTTP on 127.0.0.1 only, at LOCKER_LOOPBACK_PORT, without HSTS', async () => {
    const loop = t.locker.endpoints!.loopbackUrl!;
    expect(loop).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(loop).port).not.toBe(new URL(t.url).port);
    const page = await get(`${loop}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/<button/);
    expect(page.headers['strict-transport-security']).toBeUndefined();
    const health = await get(`${loop}/healthz`);
    expect(health.status).toBe(200);
    // The kiosk's own API call works there too (a wrong code is 401, not a TLS error).
    const pickup = await get(`${loop}/api/v1/pickups`, { method: 'POST', body: JSON.stringify({ phone: '0912345678', code: '123456' }) });
    expect(pickup.status).toBe(401);
    // The watchdog probes the loopback listener.
    expect(t.locker.endpoints!.probeUrl).toBe(loop);
  });

  it('stops both listeners on stop', async () => {
    const other = await startLocker({ env: { LOCKER_TLS_CERT: cert.certFile, LOCKER_TLS_KEY: cert.keyFile, LOCKER_LOOPBACK_PORT: '0' } });
    const { url, loopbackUrl } = other.locker.endpoints!;
    expect((await get(`${loopbackUrl}/healthz`)).status).toBe(200);
    await other.stop();
    await expect(get(`${loopbackUrl}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(get(`${url}/healthz`, { ca: cert.cert })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('without a certificate', () => {
  it('is plain HTTP as before, with no HSTS and no second listener', async () => {
    const plain = await startLocker();
    try {
      expect(plain.url).toMatch(/^http:\/\//);
      const health = await get(`${plain.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBeUndefined();
      expect(plain.locker.endpoints!.loopbackUrl).toBeNull();
    } finally {
      await plain.stop();
    }
  });
});
