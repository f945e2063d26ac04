// HTTP gateways against a local HTTP server: the presets as configured through the environment,
// retries through the dispatcher, and what a restart does to a message in flight.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { SmsSendError } from '../../server/sms/http-channel.ts';
import { createSmsChannel } from '../../server/sms/index.ts';
import { SMS_BACKOFF_MS } from '../../server/sms/dispatcher.ts';
import { ManualClock } from '../helpers/clock.ts';
import { fastMap, loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { until } from './manual-time.ts';

const ROOT = join(import.meta.dirname, '../..');
const PHONE = '0912345678';
const TEXT = 'Mã nhận: 042917 & "ngăn" 7';

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

type Answer = { status: number; body?: string; delayMs?: number } | 'hold';

let server: Server | null = null;
let held: ServerResponse[] = [];
let t: TestLocker | null = null;

afterEach(async () => {
  await t?.stop();
  t = null;
  for (const res of held) res.destroy();
  held = [];
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
  }
  server = null;
});

async function gateway(answer: (s: Seen, n: number) => Answer = () => ({ status: 200 })) {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method!, url: new URL(req.url!, 'http://gw'), headers: req.headers, body };
      seen.push(s);
      const a = answer(s, seen.length);
      if (a === 'hold') {
        held.push(res);
        return;
      }
      setTimeout(() => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '{}'), a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

function channel(env: Record<string, string>) {
  const config = loadConfig({ LOCKER_DATA_DIR: tempDir(), LOCKER_SMS: 'http', ...env });
  return createSmsChannel(config, new ManualClock());
}

const ctx = (id: string) => ({ id, ref: 1, handover: () => undefined });

describe('HTTP gateway presets', () => {
  it('json: POSTs the renamed fields, constant extras and message id, with the API key in a header', async () => {
    const gw = await gateway();
    const ch = channel({
      LOCKER_SMS_HTTP_URL: `${gw.url}/v1/send`,
      LOCKER_SMS_HTTP_PRESET: 'json',
      LOCKER_SMS_HTTP_API_KEY: 'k-123',
      LOCKER_SMS_HTTP_FIELDS: '{"to":"Phone","text":"Content","id":"RequestId"}',
      LOCKER_SMS_HTTP_EXTRA: '{"Brandname":"UBND-Q1","SmsType":2}',
      LOCKER_SMS_HTTP_PHONE: '84',
    });
    await ch.send({ to: PHONE, text: TEXT }, ctx('locker-1-5'));
    expect(gw.seen).toHaveLength(1);
    const s = gw.seen[0];
    expect(s.method).toBe('POST');
    expect(s.url.pathname).toBe('/v1/send');
    expect(s.headers['x-api-key']).toBe('k-123');
    expect(s.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(s.body)).toEqual({ Phone: '84912345678', Content: TEXT, RequestId: 'locker-1-5', Brandname: 'UBND-Q1', SmsType: 2 });
  });

  it('form: POSTs url-encoded fields, the key as a field when one is named for it', async () => {
    const gw = await gateway();
    const ch = channel({
      LOCKER_SMS_HTTP_URL: `${gw.url}/sms`,
      LOCKER_SMS_HTTP_PRESET: 'form',
      LOCKER_SMS_HTTP_API_KEY: 'k&=/',
      LOCKER_SMS_HTTP_FIELDS: '{"key":"api_key","to":"msisdn"}',
      LOCKER_SMS_HTTP_PHONE: '+84',
    });
    await ch.send({ to: PHONE, text: TEXT }, ctx('x'));
    const s = gw.seen[0];
    expect(s.method).toBe('POST');
    expect(s.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(s.headers['x-api-key']).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(s.body))).toEqual({ msisdn: '+84912345678', text: TEXT, api_key: 'k&=/' });
  });

  it('get: appends the query to a URL that already has one, key in the configured header', async () => {
    const gw = await gateway();
    const ch = channel({
      LOCKER_SMS_HTTP_URL: `${gw.url}/api/send?brand=UBND`,
      LOCKER_SMS_HTTP_PRESET: 'get',
      LOCKER_SMS_HTTP_API_KEY: 'Bearer abc',
      LOCKER_SMS_HTTP_API_KEY_HEADER: 'Authorization',
    });
    await ch.send({ to: PHONE, text: TEXT }, ctx('x'));
    const s = gw.seen[0];
    expect(s.method).toBe('GET');
    expect(s.body).toBe('');
    expect(s.headers.authorization).toBe('Bearer abc');
    expect(Object.fromEntries(s.url.searchParams)).toEqual({ brand: 'UBND', to: PHONE, text: TEXT });
  });

  it('tells the gateway whether the text is unicode (UCS-2) or not, by the same rule as the modem', async () => {
    const gw = await gateway();
    const json = channel({ LOCKER_SMS_HTTP_URL: gw.url, LOCKER_SMS_HTTP_PRESET: 'json', LOCKER_SMS_HTTP_FIELDS: '{"unicode":"IsUnicode","text":"Content"}' });
    await json.send({ to: PHONE, text: 'Ma nhan: 042917 [ngan 7]' }, ctx('a'));
    await json.send({ to: PHONE, text: TEXT }, ctx('b'));
    expect(gw.seen.map((s) => JSON.parse(s.body).IsUnicode)).toEqual([0, 1]);
    const form = channel({ LOCKER_SMS_HTTP_URL: gw.url, LOCKER_SMS_HTTP_PRESET: 'form', LOCKER_SMS_HTTP_FIELDS: '{"unicode":"unicode"}' });
    await form.send({ to: PHONE, text: 'Ma nhan: 042917' }, ctx('c'));
    expect(new URLSearchParams(gw.seen[2].body).get('unicode')).toBe('0');
    const template = channel({ LOCKER_SMS_HTTP_URL: `${gw.url}/t?u={{unicode:url}}`, LOCKER_SMS_HTTP_BODY: '{"msg":{{text}},"type":{{unicode}}}' });
    await template.send({ to: PHONE, text: TEXT }, ctx('d'));
    expect(gw.seen[3].url.searchParams.get('u')).toBe('1');
    expect(JSON.parse(gw.seen[3].body)).toEqual({ msg: TEXT, type: 1 });
  });

  it('template: keeps the hand-written template, with {{id}} and {{msisdn}}', async () => {
    const gw = await gateway();
    const ch = channel({
      LOCKER_SMS_HTTP_URL: `${gw.url}/t?ref={{id:url}}`,
      LOCKER_SMS_HTTP_BODY: '{"dest":{{msisdn}},"msg":{{text}}}',
      LOCKER_SMS_HTTP_HEADERS: '{"x-token":"t"}',
    });
    await ch.send({ to: PHONE, text: TEXT }, ctx('locker-1-9'));
    expect(gw.seen[0].url.searchParams.get('ref')).toBe('locker-1-9');
    expect(JSON.parse(gw.seen[0].body)).toEqual({ dest: '84912345678', msg: TEXT });
    expect(gw.seen[0].headers['x-token']).toBe('t');
  });

  it('counts a 200 without the configured success marker as a failure', async () => {
    const gw = await gateway((_s, n) => ({ status: 200, body: n === 1 ? '{"CodeResult":"99","Error":"bad brand"}' : '{"CodeResult":"100"}' }));
    const ch = channel({ LOCKER_SMS_HTTP_URL: gw.url, LOCKER_SMS_HTTP_PRESET: 'json', LOCKER_SMS_HTTP_SUCCESS: '"CodeResult":"100"' });
    await expect(ch.send({ to: PHONE, text: TEXT }, ctx('a'))).rejects.toThrow(new SmsSendError('gateway answered HTTP 200 without the success marker'));
    await expect(ch.send({ to: PHONE, text: TEXT }, ctx('b'))).resolves.toBeUndefined();
  });

  it('refuses preset settings that cannot work, naming the variable', () => {
    expect(() => channel({ LOCKER_SMS_HTTP_URL: 'http://x', LOCKER_SMS_HTTP_PRESET: 'soap' })).toThrow(/LOCKER_SMS_HTTP_PRESET/);
    expect(() => channel({ LOCKER_SMS_HTTP_URL: 'http://x', LOCKER_SMS_HTTP_PRESET: 'json', LOCKER_SMS_HTTP_FIELDS: '{"phone":"p"}' })).toThrow(/LOCKER_SMS_HTTP_FIELDS/);
    expect(() => channel({ LOCKER_SMS_HTTP_URL: 'http://x', LOCKER_SMS_HTTP_PRESET: 'json', LOCKER_SMS_HTTP_EXTRA: '[1]' })).toThrow(/LOCKER_SMS_HTTP_EXTRA/);
    expect(() => channel({ LOCKER_SMS_HTTP_URL: 'http://x', LOCKER_SMS_HTTP_PRESET: 'get', LOCKER_SMS_HTTP_PHONE: '0084' })).toThrow(/LOCKER_SMS_HTTP_PHONE/);
  });
});

describe('HTTP gateway delivery', () => {
  it('retries a 5xx and a timeout with backoff, then records one send', async () => {
    const answers: Answer[] = [{ status: 503 }, { status: 200, delayMs: 1_000 }, { status: 200 }];
    const gw = await gateway((_s, n) => answers[n - 1] ?? { status: 200 });
    t = await startLocker({
      env: { LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: `${gw.url}/send`, LOCKER_SMS_HTTP_PRESET: 'json', LOCKER_SMS_HTTP_FIELDS: '{"id":"ref"}', LOCKER_SMS_HTTP_TIMEOUT_MS: '200' },
    });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'H-1', PHONE);
    expect(gw.seen).toHaveLength(1);
    t.clock.advance(SMS_BACKOFF_MS[0]);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
    expect((await t.api('GET', '/api/v1/dossiers/H-1', undefined, staff)).body.sms).toBe('queued');
    t.clock.advance(SMS_BACKOFF_MS[1] - 1);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
    t.clock.advance(1);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(3);

    const bodies = gw.seen.map((s) => JSON.parse(s.body));
    expect(new Set(bodies.map((b) => b.ref)).size).toBe(1); // the same message id on every attempt
    expect(new Set(bodies.map((b) => b.text)).size).toBe(1); // and the same code
    expect((await t.api('GET', '/api/v1/dossiers/H-1', undefined, staff)).body.sms).toBe('sent');
    const sent = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.sent');
    expect(sent).toEqual([expect.objectContaining({ dossier: 'H-1', data: expect.objectContaining({ channel: 'http', attempt: 3, kind: 'pickup_code' }) })]);
  });
});

/** Runs a locker in a child process on `dataDir` and kills it (SIGKILL) as soon as the gateway holds its SMS. */
async function crashWhileSending(dataDir: string, gatewayUrl: string, env: Record<string, string>, seen: Seen[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sms/fixtures/crash-locker.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOCKER_DATA_DIR: dataDir, LOCKER_MAP: join(dataDir, 'map.json'), LOCKER_PORT: '0', LOCKER_HOST: '127.0.0.1', LOCKER_LOG_LEVEL: 'silent', LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: gatewayUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  await until(() => seen.length > 0 || child.exitCode !== null, 'the gateway to hold a request', 20_000);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect(seen, out).toHaveLength(1);
}

describe('a restart in the middle of a send', () => {
  it('never sends a message twice that may have left before the crash: it is failed, audited and shown to staff', async () => {
    const gw = await gateway((_s, n) => (n === 1 ? 'hold' : { status: 200 }));
    const dataDir = tempDir();
    fastMap(dataDir);
    await crashWhileSending(dataDir, `${gw.url}/send`, {}, gw.seen);
    const db = new Database(join(dataDir, 'locker.db'));
    expect(db.prepare('SELECT status FROM sms_queue').all()).toEqual([{ status: 'handed' }]);
    db.close();

    t = await startLocker({ dataDir, clock: new ManualClock(Date.now()), env: { LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: `${gw.url}/send` } });
    await t.locker.sms.drain();
    t.clock.advance(3_600_000);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(1);
    const staff = await t.login('staff');
    expect((await t.api('GET', '/api/v1/dossiers/CRASH-1', undefined, staff)).body.sms).toBe('failed');
    const failed = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.failed');
    expect(failed).toEqual([expect.objectContaining({ dossier: 'CRASH-1', data: expect.objectContaining({ reason: 'interrupted', maybeSent: true, to: '09******78' }) })]);

    // Staff decide: a resend issues a new code, sent once.
    expect((await t.api('POST', '/api/v1/dossiers/CRASH-1/resend', undefined, staff)).status).toBe(200);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
  });

  it('sends again, with the same message id, through a gateway that deduplicates by it', async () => {
    const gw = await gateway((_s, n) => (n === 1 ? 'hold' : { status: 200 }));
    const dataDir = tempDir();
    fastMap(dataDir);
    const env = { LOCKER_SMS_HTTP_BODY: '{"id":{{id}},"to":{{to}},"text":{{text}}}', LOCKER_SMS_HTTP_IDEMPOTENT: 'true' };
    await crashWhileSending(dataDir, `${gw.url}/send`, env, gw.seen);
    t = await startLocker({ dataDir, clock: new ManualClock(Date.now()), env: { LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: `${gw.url}/send`, ...env } });
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
    const [a, b] = gw.seen.map((s) => JSON.parse(s.body));
    expect(b).toEqual(a);
    expect(a.id).toMatch(/^locker-1-\d+$/);
    expect(t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.failed')).toHaveLength(0);
  });

  it('sends once after a restart a message that was claimed but not yet handed over', async () => {
    const gw = await gateway();
    const dataDir = tempDir();
    t = await startLocker({ dataDir, env: { LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: `${gw.url}/send` } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'S-1', PHONE);
    expect(gw.seen).toHaveLength(1);
    // Put the row back where a crash between the claim and the request would leave it.
    const db = t.locker.ctx.store.db;
    db.prepare(`UPDATE sms_queue SET status = 'sending', attempts = 1`).run();
    await t.locker.stop();
    t = await startLocker({ dataDir, clock: t.clock, env: { LOCKER_SMS: 'http', LOCKER_SMS_HTTP_URL: `${gw.url}/send` } });
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
    expect(t.locker.ctx.store.db.prepare('SELECT status, attempts FROM sms_queue').all()).toEqual([{ status: 'sent', attempts: 2 }]);
    await t.locker.sms.drain();
    expect(gw.seen).toHaveLength(2);
  });
});
