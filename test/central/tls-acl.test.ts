// The central service against the production broker set-up of server/mqtt/README.md: TLS with client
// certificates (CN = client id) and that document's ACL, which lets the central office read every
// locker's topics, through its shared subscription too, and write only command requests.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedAcl } from '../helpers/broker-acl.ts';
import { mosquittoBinary, startBroker, type TestBroker } from '../helpers/broker.ts';
import { startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { freshDb, startCentral, waitUntil, type DbPlace, type TestCentral } from './helpers.ts';

const haveMosquitto = mosquittoBinary() !== null;
const dir = tempDir('central-tls-');


function makeCertificates() {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test Locker CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const cn of ['broker', 'lk-tls', 'central']) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${cn}.key`, '-out', `${cn}.csr`);
    const ext = cn === 'broker' ? ['-extfile', 'san.ext'] : [];
    ossl('x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${cn}.crt`, ...ext);
  }
}

describe.skipIf(!haveMosquitto)('central service on the production broker set-up (TLS client certificates, documented ACL)', () => {
  let broker: TestBroker;
  let place: DbPlace;
  let c: TestCentral;
  let t: TestLocker;

  beforeAll(async () => {
    makeCertificates();
    writeFileSync(join(dir, 'acl'), documentedAcl());
    broker = await startBroker({
      listener: (port) => [
        'per_listener_settings false',
        `listener ${port} 127.0.0.1`,
        `cafile ${join(dir, 'ca.crt')}`,
        `certfile ${join(dir, 'broker.crt')}`,
        `keyfile ${join(dir, 'broker.key')}`,
        'tls_version tlsv1.2',
        'require_certificate true',
        'use_identity_as_username true',
        'use_username_as_clientid true',
        'allow_anonymous false',
        `acl_file ${join(dir, 'acl')}`,
      ],
    });
    const url = `mqtts://127.0.0.1:${broker.port}`;
    t = await startLocker({ env: { LOCKER_ID: 'lk-tls', LOCKER_MQTT_URL: url, LOCKER_MQTT_CA: join(dir, 'ca.crt'), LOCKER_MQTT_CERT: join(dir, 'lk-tls.crt'), LOCKER_MQTT_KEY: join(dir, 'lk-tls.key') } });
    place = freshDb('sqlite');
    c = await startCentral({
      db: place,
      brokerUrl: url,
      // The locker published before this service first subscribed: those events reach it only
      // when it asks for them (events/republish), which it does at once with no grace period.
      env: { CENTRAL_GAP_GRACE_S: '0', CENTRAL_MQTT_CLIENT_ID: 'central', CENTRAL_MQTT_CA: join(dir, 'ca.crt'), CENTRAL_MQTT_CERT: join(dir, 'central.crt'), CENTRAL_MQTT_KEY: join(dir, 'central.key') },
    });
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
    await t?.stop();
    await place?.drop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the retained availability and state, gets the events published before it came, and sends a command', async () => {
    const admin = await c.login('admin');
    await waitUntil('the locker seen online with its state', async () => {
      const l = (await c.api('GET', '/api/v1/lockers', undefined, admin)).body.lockers[0];
      return l?.online === true && l.compartments.free === 24;
    });
    const token = await t.login('staff');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'TLS-1', phone: '0912000111', size: 'S' }, token);
    expect(reg.status).toBe(201);
    await waitUntil('every event stored', async () => (await c.api('GET', '/api/v1/lockers', undefined, admin)).body.lockers[0].events === t.locker.ctx.audit.latestSeq());
    expect((await c.api('GET', '/api/v1/lockers/lk-tls/verify', undefined, admin)).body).toMatchObject({ ok: true, gaps: [], broken: [] });
    const r = await c.api('POST', '/api/v1/lockers/lk-tls/commands', { command: 'state/get' }, admin);
    expect(r.body).toMatchObject({ status: 'ok', data: { seq: t.locker.ctx.audit.latestSeq() } });
    expect(c.central.link.status()).toMatchObject({ state: 'connected', subscribed: true, broker: `mqtts://127.0.0.1:${broker.port}` });
  });
});
