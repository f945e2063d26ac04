// The production broker set-up of server/mqtt/README.md, on a real Mosquitto: TLS with per-locker client
// certificates, and that document's ACL, which lets each locker write only under its own topics.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedAcl } from '../helpers/broker-acl.ts';
import { mosquittoBinary, startBroker, type TestBroker } from '../helpers/broker.ts';
import { startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { Consumer } from './consumer.ts';
const haveMosquitto = mosquittoBinary() !== null;
if (!haveMosquitto) console.warn('tls-acl: skipped, it needs mosquitto (aedes has no ACL file or TLS client certificates)');


const dir = tempDir('locker-tls-');
const pem = (name: string) => readFileSync(join(dir, name));
const tlsFor = (cn: string) => ({ ca: pem('ca.crt'), cert: pem(`${cn}.crt`), key: pem(`${cn}.key`) });

function makeCertificates() {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test Locker CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const cn of ['broker', 'locker-1', 'locker-2', 'central']) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${cn}.key`, '-out', `${cn}.csr`);
    const ext = cn === 'broker' ? ['-extfile', 'san.ext'] : [];
    ossl('x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${cn}.crt`, ...ext);
  }
}

let broker: TestBroker;
let t: TestLocker;
let central: Consumer;

describe.skipIf(!haveMosquitto)('production Mosquitto set-up (TLS client certificates, documented ACL)', () => {
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
    central = await Consumer.connect(broker, { url, tls: tlsFor('central') });
    t = await startLocker({
      env: {
        LOCKER_MQTT_URL: url,
        LOCKER_MQTT_CA: join(dir, 'ca.crt'),
        LOCKER_MQTT_CERT: join(dir, 'locker-1.crt'),
        LOCKER_MQTT_KEY: join(dir, 'locker-1.key'),
      },
    });
    await central.waitFor('online', () => central.lastAvailability() === 'online');
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await central?.close();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the locker publish its availability, state and events and answer commands over TLS', async () => {
    t.sim.setDoor(2, true);
    t.sim.setDoor(2, false);
    await central.waitFor('events', () => central.check().maxSeq === t.locker.ctx.audit.latestSeq());
    expect(central.check()).toMatchObject({ gaps: [], conflicts: [] });
    await central.waitFor('state', () => central.lastState()?.seq === t.locker.ctx.audit.latestSeq());
    const r = await central.request('state/get', { transaction: 'tls-1' }, 'tls-1');
    expect(r).toMatchObject({ status: 'ok', data: { seq: t.locker.ctx.audit.latestSeq() } });
  });

  it('lets the central office read through a shared subscription and send requests', async () => {
    // A second central connection needs its own certificate CN (the CN is the client id).
    const shared = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, { protocolVersion: 5, reconnectPeriod: 0, ...tlsFor('central') });
    const seen: number[] = [];
    // The broker gives the CN "central" as client id: this connection takes over the consumer's
    // session, so it is checked alone and the consumer reconnects afterwards.
    try {
      shared.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()).seq));
      await shared.subscribeAsync('$share/central/locker/+/events', { qos: 1 });
      t.sim.setDoor(6, true);
      const deadline = Date.now() + 10_000;
      while (!seen.includes(t.locker.ctx.audit.latestSeq()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(seen).toContain(t.locker.ctx.audit.latestSeq());
    } finally {
      await shared.endAsync(true);
      t.sim.setDoor(6, false);
    }
    await central.waitFor('the consumer back', () => central.client.connected);
    const r = await central.request('state/get', { transaction: 'tls-3' }, 'tls-3');
    expect(r.status).toBe('ok');
  });

  it("keeps another locker out of this locker's topics and session", async () => {
    // locker-2's certificate, asking for locker-1's client id: the broker makes it "locker-2".
    const rogue = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, { clientId: 'locker-1', protocolVersion: 5, reconnectPeriod: 0, ...tlsFor('locker-2') });
    try {
      const stolen: string[] = [];
      rogue.on('message', (topic) => stolen.push(topic));
      await rogue.subscribeAsync('locker/locker-1/request/#', { qos: 1 });
      const forged = JSON.stringify({ id: 'forged', seq: 1, type: 'door.opened', locker: 'locker-1' });
      await rogue.publishAsync('locker/locker-1/events', forged, { qos: 1 }).catch(() => undefined);
      await rogue.publishAsync('locker/locker-1/availability', JSON.stringify({ state: 'offline' }), { qos: 1, retain: true }).catch(() => undefined);
      // What it may do, published after the forgeries: once this arrives, a forgery would have too.
      const own = await Consumer.connect(broker, { url: `mqtts://127.0.0.1:${broker.port}`, lockerId: 'locker-2', tls: tlsFor('central') });
      try {
        await rogue.publishAsync('locker/locker-2/events', JSON.stringify({ id: 'own', seq: 1, locker: 'locker-2' }), { qos: 1 });
        await own.waitFor("locker-2's own event", () => own.events.some((e) => e.id === 'own'));
      } finally {
        await own.close();
      }
      await central.request('state/get', { transaction: 'tls-2' }, 'tls-2');
      expect(central.events.some((e) => e.id === 'forged')).toBe(false);
      expect(central.lastAvailability()).toBe('online');
      expect(stolen).toEqual([]);
      // locker-1 kept its session: still connected, still answering.
      expect(t.locker.ctx.mqttStatus().state).toBe('connected');
    } finally {
      await rogue.endAsync(true);
    }
  });

  it('refuses a client without a certificate', async () => {
    const attempt = mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, { clientId: 'nobody', ca: pem('ca.crt'), reconnectPeriod: 0, connectTimeout: 3000 });
    await expect(attempt).rejects.toThrow();
  });
});
