// Fuzzing every HTTP endpoint (found from the OpenAPI document, plus the pages): random JSON,
// wrong types, missing and extra fields, huge numbers, full-width and Arabic-Indic digits,
// whitespace, __proto__/constructor keys, bodies over the size limit, bad tokens and the wrong
// role. Whatever comes in: never a 5xx, never a door unlocked, never a state change, except a
// change a well-formed request by an allowed role may make (checked by an oracle written here,
// independent of the server's own validation).
import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../server/http/app.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { captureLogger } from './lib/capture.ts';
import { scaled, suiteSeed, writeFigures } from './lib/figures.ts';
import { disguised, hostileObjectText, hostileValue, notAnObjectText, oversizeText, weirdStrings } from './lib/hostile.ts';
import { LeakScan } from './lib/leaks.ts';
import { ACCOUNTING_EVENTS, changedTables, eventTypesAfter, fingerprint } from './lib/snapshot.ts';

const RUNS = scaled(2000);
const DOSSIER_CODE = /^[A-Za-z0-9._-]{1,64}$/;

type Auth = 'none' | 'garbage' | 'lowercase' | 'staff' | 'auditor' | 'admin';
const ROLES_OF: Record<Auth, string | null> = { none: null, garbage: null, lowercase: null, staff: 'staff', auditor: 'auditor', admin: 'admin' };

interface Route {
  method: string;
  template: string;
  params: string[];
  query: string[];
  bodyFields: string[] | null;
}

interface Req {
  route: Route;
  auth: Auth;
  params: Record<string, { raw: string; encode: boolean }>;
  query: [string, string][];
  body: { text: string | Uint8Array; contentType: string | null } | null;
}

let t: TestLocker;
const log = captureLogger('info');
const leaks = new LeakScan();
const live = { codes: [] as string[], phones: [] as string[], pickupCodes: new Map<string, string>() };
const tokens: Record<string, { token: string; at: number }> = {};
let routes: Route[] = [];

/** Independent oracle: the phone forms the contract accepts, after stripping spaces, dots and dashes. */
function phoneOracle(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 20) return null;
  const s = input.replace(/[\s.-]/g, '');
  const m = /^(?:\+84|84|0)([35789][0-9]{8})$/.exec(s);
  return m ? `0${m[1]}` : null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysExactly = (o: Record<string, unknown>, required: string[], optional: string[] = []) =>
  required.every((k) => Object.hasOwn(o, k)) && Object.keys(o).every((k) => required.includes(k) || optional.includes(k));

function parseBody(req: Req): { ok: boolean; value?: unknown } {
  if (!req.body) return { ok: true, value: undefined };
  if (req.body.contentType === null || !/^application\/json(;\s*charset=utf-8)?$/i.test(req.body.contentType)) return { ok: false };
  if (typeof req.body.text !== 'string') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(req.body.text) };
  } catch {
    return { ok: false };
  }
}

/** May this request, answered 2xx, change state (and, where the contract says so, unlock a door)? */
function mayChange(req: Req): boolean {
  const role = ROLES_OF[req.auth];
  const staff = role === 'staff' || role === 'admin';
  const p = (name: string) => (req.params[name] ? req.params[name].raw : '');
  const body = parseBody(req);
  const b = body.ok ? body.value : Symbol('unparsable');
  // Digits read the same percent-encoded or not, so how the number was sent does not matter.
  const compartment = (n: string) => /^[0-9]{1,6}$/.test(n) && Number(n) >= 1 && Number(n) <= 24;
  switch (`${req.route.method} ${req.route.template}`) {
    case 'POST /api/v1/dossiers':
      return (
        staff &&
        isPlainObject(b) &&
        keysExactly(b, ['code', 'phone', 'size']) &&
        typeof b.code === 'string' &&
        DOSSIER_CODE.test(b.code) &&
        phoneOracle(b.phone) !== null &&
        ['S', 'M', 'L'].includes(b.size as string)
      );
    case 'POST /api/v1/dossiers/{code}/loaded':
    case 'POST /api/v1/dossiers/{code}/withdraw':
    case 'POST /api/v1/dossiers/{code}/resend':
      // These take no body: whatever one carries is ignored, as the contract says "body: none".
      return staff && isLiveCode(p('code'));
    case 'POST /api/v1/compartments/{number}/disable':
      return staff && compartment(p('number')) && (b === undefined || (isPlainObject(b) && keysExactly(b, [], ['reason']) && (b.reason === undefined || (typeof b.reason === 'string' && b.reason.length <= 200))));
    case 'POST /api/v1/compartments/{number}/enable':
      return staff && compartment(p('number'));
    case 'POST /api/v1/sim/compartments/{number}/door':
      return compartment(p('number')) && isPlainObject(b) && keysExactly(b, ['open']) && typeof b.open === 'boolean';
    case 'DELETE /api/v1/session':
      // Logging out ends the caller's own session, whatever else the request carries.
      return role !== null;
    // Repairs and account actions: their schemas decide what is valid, and each 2xx is an audited
    // change by a role allowed to make it. Anything invalid must still answer 4xx and change nothing.
    case 'POST /api/v1/compartments/{number}/unlock':
    case 'POST /api/v1/compartments/{number}/release':
    case 'POST /api/v1/dossiers/{code}/phone':
    case 'POST /api/v1/dossiers/{code}/extend':
    case 'POST /api/v1/dossiers/{code}/reveal-phone':
    case 'POST /api/v1/dossiers/search':
    case 'POST /api/v1/alarms/{seq}/ack':
      return staff;
    case 'POST /api/v1/users':
    case 'POST /api/v1/users/{name}/password':
    case 'POST /api/v1/users/{name}/disable':
    case 'POST /api/v1/users/{name}/enable':
    case 'POST /api/v1/users/{name}/unlock':
      return role === 'admin';
    case 'POST /api/v1/pickups/resend': {
      const phone = isPlainObject(b) && keysExactly(b, ['phone']) ? phoneOracle(b.phone) : null;
      return phone !== null && live.phones.includes(phone);
    }
    default:
      return false;
  }
}

/** Dossier codes are one dossier whatever their case. */
const isLiveCode = (code: string) => live.codes.some((c) => c.toLowerCase() === code.toLowerCase());

/** Doors a request may unlock: only staff loading, withdrawing or unlocking again. */
const mayUnlock = (req: Req) =>
  mayChange(req) &&
  ['POST /api/v1/dossiers', 'POST /api/v1/dossiers/{code}/withdraw', 'POST /api/v1/compartments/{number}/unlock'].includes(`${req.route.method} ${req.route.template}`);

// ---- generators -------------------------------------------------------------------------------

const anyLivePhone = () => fc.constantFrom(...live.phones);

function fieldSample(route: Route, field: string): fc.Arbitrary<unknown> {
  const pickup = route.template.startsWith('/api/v1/pickups');
  switch (field) {
    case 'phone':
      return fc.oneof(
        anyLivePhone(),
        anyLivePhone().chain((p) => disguised(p)),
        anyLivePhone().map((p) => `+84 ${p.slice(1, 4)} ${p.slice(4)}`),
        anyLivePhone().map((p) => Number(p)),
        fc.constantFrom('0900000001', '+84900000001', '84900000001', '0123456789', '+1 202 555 0100'),
      );
    case 'code':
      if (pickup) {
        // The right code, disguised: never the plain ASCII code itself.
        return fc.oneof(
          fc.constantFrom(...live.pickupCodes.values()).chain((c) => disguised(c)),
          fc.constantFrom(...live.pickupCodes.values()).map((c) => Number(c)),
          fc.constantFrom(...live.pickupCodes.values()).map((c) => ` ${c}`),
          fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0')).filter((c) => ![...live.pickupCodes.values()].includes(c)),
        );
      }
      return fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), fc.constantFrom(...live.codes).chain((c) => disguised(c)));
    case 'size':
      return fc.constantFrom('S', 'M', 'L', 's', 'XL', 'Ｓ', ' S', 'S ', '', 1);
    case 'username':
      return fc.oneof(fc.constantFrom('staff1', 'admin', 'root', 'fz_staff'), weirdStrings);
    case 'password':
      return fc.oneof(fc.string({ maxLength: 300 }), weirdStrings);
    case 'open':
      return fc.constantFrom(true, false, 'true', 1, 0, null, 'false');
    case 'reason':
      return fc.oneof(fc.string({ maxLength: 220 }), weirdStrings);
    default:
      return hostileValue;
  }
}

function paramSample(name: string, auth: Auth): fc.Arbitrary<{ raw: string; encode: boolean }> {
  const staff = auth === 'staff' || auth === 'admin';
  const enc = (a: fc.Arbitrary<string>) => fc.tuple(a, fc.boolean()).map(([raw, plain]) => ({ raw, encode: !(plain && /^[\x21-\x7e]*$/.test(raw)) }));
  if (name === 'code') {
    return enc(
      fc.oneof(
        weirdStrings,
        fc.constantFrom(...live.codes).chain((c) => disguised(c)),
        fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((c) => !isLiveCode(c)),
        // A live code itself only for someone who must not act on it.
        ...(staff ? [] : [fc.constantFrom(...live.codes)]),
      ),
    );
  }
  if (name === 'number') {
    return enc(
      fc.oneof(
        fc.constantFrom('0', '-1', '25', '999999', '1000000', '1.5', '1e1', '0x1', ' 1', '１', '١', '+1', '9'.repeat(40), '1%00'),
        fc.integer().map(String),
        weirdStrings,
        ...(staff ? [] : [fc.integer({ min: 1, max: 24 }).map(String)]),
      ),
    );
  }
  return enc(fc.oneof(weirdStrings, fc.constantFrom('../../package.json', '..%2f..%2fpackage.json', '%2e%2e/%2e%2e/server/main.ts', 'kiosk.html%00.png', '/etc/passwd', '%FF%FE', '%C0%AE%C0%AE/')));
}

const contentTypes = fc.constantFrom<string | null>(
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  null,
);

function requestArb(): fc.Arbitrary<Req> {
  return fc
    .tuple(fc.constantFrom(...routes), fc.constantFrom<Auth>('none', 'garbage', 'lowercase', 'staff', 'auditor', 'admin'))
    .chain(([route, auth]) => {
      const params = fc.record(Object.fromEntries(route.params.map((p) => [p, paramSample(p, auth)])) as Record<string, fc.Arbitrary<{ raw: string; encode: boolean }>>);
      const query = route.method === 'GET' ? fc.array(fc.tuple(fc.constantFrom(...route.query, 'x', '__proto__', 'constructor'), fc.oneof(weirdStrings, fc.integer().map(String), hugeText())), { maxLength: 3 }) : fc.constant([] as [string, string][]);
      const bodyText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
        { weight: 6, arbitrary: hostileObjectText(route.bodyFields ?? ['code', 'phone'], (f) => fieldSample(route, f)) },
        { weight: 2, arbitrary: notAnObjectText },
        // Cut short: malformed JSON that carries real phone numbers and codes (must not be echoed back).
        { weight: 1, arbitrary: hostileObjectText(route.bodyFields ?? ['phone', 'code'], (f) => fieldSample(route, f)).chain((text) => fc.nat({ max: Math.max(0, text.length - 2) }).map((k) => text.slice(0, k + 1))) },
        { weight: 1, arbitrary: oversizeText(BODY_LIMIT) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
      );
      const body =
        route.method === 'GET' || route.method === 'HEAD'
          ? fc.constant(null)
          : fc.option(fc.record({ text: bodyText, contentType: contentTypes }), { freq: route.bodyFields ? 12 : 2 });
      return fc.record({ route: fc.constant(route), auth: fc.constant(auth), params, query, body });
    });
}

const hugeText = () => fc.constantFrom('1'.repeat(400), '9'.repeat(16), '-0', '1e308', '0x7fffffff');

// ---- sending ----------------------------------------------------------------------------------

async function token(role: 'staff' | 'auditor' | 'admin'): Promise<string> {
  const have = tokens[role];
  // Sessions last a week; the throttles move the clock on, so a token is renewed after six days.
  if (have && t.clock.now() - have.at < 6 * 86_400_000) return have.token;
  for (;;) {
    const res = await t.api('POST', '/api/v1/session', { username: `fz_${role}_acct`, password: `fuzz-${role}-password` });
    if (res.status === 200) {
      tokens[role] = { token: res.body.token, at: t.clock.now() };
      return res.body.token;
    }
    // The fuzz's own failed logins block the address for a while: wait it out.
    expect(res.status).toBe(429);
    t.clock.advance(Number(res.headers.get('retry-after')) * 1000 + 1000);
  }
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD, as a browser would send them). */
const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

function urlOf(req: Req): string {
  let path = req.route.template;
  for (const [name, v] of Object.entries(req.params)) {
    const value = v.encode ? pct(v.raw) : v.raw;
    path = path.replace(`{${name}}`, value);
  }
  if (req.query.length > 0) path += `?${req.query.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`;
  return path;
}

async function send(req: Req): Promise<{ status: number; text: string; contentType: string } | null> {
  const headers: Record<string, string> = {};
  if (req.auth === 'garbage') headers.authorization = 'Bearer ' + 'A'.repeat(43);
  else if (req.auth === 'lowercase') headers.authorization = `bearer ${await token('staff')}`;
  else if (req.auth !== 'none') headers.authorization = `Bearer ${await token(req.auth)}`;
  if (req.body?.contentType) headers['content-type'] = req.body.contentType;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    const res = await fetch(`${t.url}${urlOf(req)}`, { method: req.route.method, headers, body: req.body ? (req.body.text as BodyInit) : undefined, signal: ac.signal, redirect: 'manual' });
    const contentType = res.headers.get('content-type') ?? '';
    // A live stream never ends: its status and headers are the answer.
    if (contentType.includes('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '', contentType };
    }
    return { status: res.status, text: await res.text(), contentType };
  } catch (err) {
    // Refused by the client itself (a header it will not send, a URL it will not build): not a request.
    if ((err as Error).name === 'TypeError' && !/fetch failed/.test((err as Error).message)) return null;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// ---- the suite --------------------------------------------------------------------------------

const figures = {
  sent: 0,
  refusedByClient: 0,
  byStatus: new Map<number, number>(),
  byRoute: new Map<string, number>(),
  wellFormedChanges: 0,
  wronglyOpened: 0,
  wronglyChanged: 0,
  fiveHundreds: 0,
  accounting: new Map<string, number>(),
};

beforeAll(async () => {
  t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: String(7 * 24 * 60), LOCKER_PICKUP_DAYS: '365' }, overrides: { logger: log.logger } });
  for (const role of ['staff', 'auditor', 'admin'] as const) await t.locker.ctx.auth.addUser(`fz_${role}_acct`, role, `fuzz-${role}-password`);
  const staff = await token('staff');
  for (let i = 0; i < 4; i++) {
    const phone = `09${String(40_000_000 + i).padStart(8, '0')}`;
    await loadDossier(t, staff, `FZ-${i}`, phone, 'S');
    live.codes.push(`FZ-${i}`);
    live.phones.push(phone);
    live.pickupCodes.set(phone, t.codeFor(phone));
  }
  // One dossier still loading (its door shut), one expired: other states a request may find.
  const reg = await t.api('POST', '/api/v1/dossiers', { code: 'FZ-LOADING', phone: '0940000010', size: 'M' }, staff);
  expect(reg.status).toBe(201);
  live.codes.push('FZ-LOADING');
  for (const p of live.phones) leaks.addPhone(p);
  leaks.addPhone('0940000010');

  const docs = await t.api('GET', '/docs/json');
  for (const [path, ops] of Object.entries<Record<string, any>>(docs.body.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      routes.push({
        method: method.toUpperCase(),
        template: path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
        query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
        bodyFields: schema?.properties ? Object.keys(schema.properties) : null,
      });
    }
  }
  // Pages and documents the OpenAPI document does not list.
  for (const path of ['/', '/staff', '/audit', '/sim', '/favicon.ico', '/docs', '/docs/json', '/web/{file}']) {
    routes.push({ method: 'GET', template: path, params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]), query: [], bodyFields: null });
  }
  // Methods no route has.
  routes.push({ method: 'DELETE', template: '/api/v1/dossiers/{code}', params: ['code'], query: [], bodyFields: null });
  routes.push({ method: 'PUT', template: '/api/v1/pickups', params: [], query: [], bodyFields: ['phone', 'code'] });
  routes = routes.filter((r) => r.method !== 'HEAD');
  expect(routes.length).toBeGreaterThan(15);
});

afterAll(async () => {
  await t?.stop();
});

describe('fuzzing every HTTP endpoint', () => {
  it(`answers ${RUNS} hostile requests without a 5xx, an unlock or a state change`, async () => {
    const started = Date.now();
    const seed = suiteSeed('fuzz-http');
    const db = t.locker.ctx.store.db;
    const energised = () => t.sim.relayLog.filter((r) => r.energised).length;

    await fc.assert(
      fc.asyncProperty(requestArb(), async (req) => {
        // Side effects of the last allowed change (its SMS) must not land in this request's window.
        await t.locker.sms.drain();
        // Keep the kiosk answering, so pickups reach the code check instead of the throttle.
        const blocked = t.locker.ctx.pickups.throttleState().blockedUntil;
        if (blocked > t.clock.now()) t.clock.t = blocked;
        for (const role of ['staff', 'auditor', 'admin'] as const) await token(role);

        const before = fingerprint(db);
        const seq = t.locker.ctx.audit.latestSeq();
        const pulses = energised();
        const res = await send(req);
        if (!res) {
          figures.refusedByClient++;
          return;
        }
        const label = `${req.route.method} ${urlOf(req).slice(0, 200)} [${req.auth}] ${req.body ? String(req.body.text).slice(0, 200) : ''}`;
        figures.sent++;
        figures.byStatus.set(res.status, (figures.byStatus.get(res.status) ?? 0) + 1);
        const key = `${req.route.method} ${req.route.template}`;
        figures.byRoute.set(key, (figures.byRoute.get(key) ?? 0) + 1);
        if (res.status >= 400) leaks.feed('error', res.text);

        // A moment for a pulse or a door event the request set off.
        await new Promise((r) => setImmediate(r));
        const after = fingerprint(db);
        const changed = changedTables(before, after);
        const events = eventTypesAfter(db, seq);
        const opened = energised() - pulses;
        const extraEvents = events.filter((e) => !ACCOUNTING_EVENTS.has(e));
        for (const e of events) if (ACCOUNTING_EVENTS.has(e)) figures.accounting.set(e, (figures.accounting.get(e) ?? 0) + 1);

        // The one 5xx that is not about the input: too many live consoles open at once.
        const busy = res.status === 503 && req.route.template === '/api/v1/events/stream' && res.text.includes('too_many_streams');
        if (res.status >= 500 && !busy) figures.fiveHundreds++;
        expect(busy || res.status < 500, `${label} -> ${res.status} ${res.text.slice(0, 200)}`).toBe(true);
        if (res.status >= 400 && req.route.template.startsWith('/api/') && req.route.method !== 'HEAD') {
          const body = JSON.parse(res.text);
          expect(typeof body.error, label).toBe('string');
          expect(typeof body.message, label).toBe('string');
        }
        const allowed = res.status < 300 && mayChange(req);
        // A logout ended that role's session: the next request logs in again.
        if (allowed && req.route.method === 'DELETE' && req.route.template === '/api/v1/session' && ROLES_OF[req.auth]) delete tokens[ROLES_OF[req.auth]!];
        if (allowed && (changed.length > 0 || extraEvents.length > 0)) figures.wellFormedChanges++;
        if (!allowed && (changed.length > 0 || extraEvents.length > 0)) figures.wronglyChanged++;
        if (opened > 0 && !(res.status < 300 && mayUnlock(req))) figures.wronglyOpened += opened;
        expect({ changed: allowed ? [] : changed, events: allowed ? [] : extraEvents }, label).toEqual({ changed: [], events: [] });
        expect(opened > 0 && !(res.status < 300 && mayUnlock(req)), `${label}: unlocked a door`).toBe(false);
      }),
      { numRuns: RUNS, seed, endOnFailure: false },
    );

    // Sizes exactly at and just over the limit, on every route that takes a body.
    for (const route of routes.filter((r) => r.bodyFields)) {
      const path = route.template.replace(/\{\w+\}/g, '1');
      const over = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) });
      const res = await fetch(`${t.url}${path}`, { method: route.method, headers: { 'content-type': 'application/json' }, body: over });
      figures.sent++;
      expect(res.status, `${route.method} ${path} with ${over.length} bytes`).toBe(413);
      expect((await res.json()).error).toBe('body_too_large');
    }

    // What fetch will not send: lying Content-Length, chunked garbage, a header line with no end.
    const raw = [
      `POST /api/v1/pickups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}`,
      `POST /api/v1/pickups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
      `POST /api/v1/pickups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{"a":1}`,
      `GET /api/v1/compartments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'A'.repeat(10_000)}\r\n\r\n`,
      `GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`,
      `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    ];
    const pulses = energised();
    for (const text of raw) {
      const status = await rawRequest(t.url, text);
      figures.sent++;
      expect(status, text.slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(status, text.slice(0, 80)).toBeLessThan(500);
    }
    expect(energised()).toBe(pulses);

    expect(t.locker.ctx.audit.verify().ok).toBe(true);
    leaks.addFromSmsFile(t.smsFile);
    leaks.feedLines('log', log.lines.join(''));
    for (const e of t.locker.ctx.audit.list(0, 1_000_000).events) leaks.feed('audit', JSON.stringify(e));
    expect(leaks.hits()).toEqual([]);

    writeFigures({
      suite: '1-fuzz-http',
      title: 'Fuzzing the HTTP API',
      summary: `${RUNS} generated requests over ${routes.length} routes (every path in the OpenAPI document, the pages, and two methods no route has), each with a random role or token, hostile path parameters, query strings and bodies; then every body-taking route just over the ${BODY_LIMIT}-byte limit, and ${raw.length} malformed raw HTTP requests.`,
      inputsTried: figures.sent,
      faultsInjected: 0,
      doorsWronglyOpened: figures.wronglyOpened,
      eventsLost: 0,
      details: {
        'requests answered': figures.sent,
        'refused by the HTTP client before sending': figures.refusedByClient,
        '5xx answers': figures.fiveHundreds,
        'state changed by a hostile request': figures.wronglyChanged,
        'well-formed requests that changed state (allowed)': figures.wellFormedChanges,
        'answers by status': [...figures.byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', '),
        'routes covered': figures.byRoute.size,
        'failed attempts audited (allowed accounting)': [...figures.accounting].map(([e, n]) => `${e}: ${n}`).join(', ') || 'none',
      },
      leaks: leaks.figures(),
      notes: ['Pickups with a disguised form of a live code (full-width, Arabic-Indic, padded, as a number) count as wrong codes: audited, never a door.'],
      seed,
      durationMs: Date.now() - started,
    });
  }, 600_000);
});

function rawRequest(base: string, text: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port) }, () => s.end(text));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no HTTP answer to ${JSON.stringify(text.slice(0, 60))}: ${JSON.stringify(data.slice(0, 100))}`));
    });
  });
}
