// How the pages are served (no browser): what each path answers, the security headers, nothing
// from another origin, the public layout endpoint, the simulator's endpoints, and the auditor
// view's pure helpers (filter, link check, CSV).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { WEB_ROOT } from '../../server/http/routes/pages.ts';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { checkLinks, matches, toCsv } from '../../server/web/lib/trail.js';

function webFiles(dir = WEB_ROOT): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? webFiles(p) : [relative(WEB_ROOT, p)];
  });
}

describe('serving the pages', () => {
  let t: TestLocker;
  beforeAll(async () => {
    t = await startLocker();
  });
  afterAll(async () => {
    await t.stop();
  });

  it.each([
    ['/', 'Nhận hồ sơ'],
    ['/staff', 'Bảng điều khiển nhân viên'],
    ['/audit', 'Nhật ký kiểm toán'],
    ['/sim', 'Mô phỏng cửa tủ'],
  ])('serves %s as a Vietnamese page under the CSP, with scripts only from files', async (path, heading) => {
    const res = await fetch(`${t.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain(heading);
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="\/web\/[a-z-]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  });

  it('asks for a password on the staff and auditor pages', async () => {
    for (const path of ['/staff', '/audit']) {
      const html = await (await fetch(`${t.url}${path}`)).text();
      expect(html).toMatch(/<input id="password" name="password" type="password"/);
    }
  });

  it('has a button named by each digit on the kiosk keypad', async () => {
    const html = await (await fetch(`${t.url}/`)).text();
    for (const d of '0123456789') expect(html).toContain(`<button type="button" data-key="${d}">${d}</button>`);
  });

  it('serves every file a page refers to, and nothing from another origin', async () => {
    const files = webFiles();
    const referenced = new Set<string>();
    for (const f of files) {
      if (!/\.(html|css|js)$/.test(f)) continue;
      const text = readFileSync(join(WEB_ROOT, f), 'utf8');
      expect(text, f).not.toMatch(/\b(?:https?|wss?):\/\//);
      expect(text, f).not.toMatch(/(?:src|href)\s*=\s*["']\/\//);
      expect(text, f).not.toMatch(/url\(\s*['"]?\/\//);
      for (const m of text.matchAll(/(?:src|href)="(\/web\/[^"]+)"|url\('(\/web\/[^']+)'\)/g)) referenced.add(m[1] ?? m[2]);
      for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) referenced.add(`/web/${join(f, '..', m[1])}`);
    }
    expect(referenced.size).toBeGreaterThan(10);
    for (const path of referenced) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    const font = await fetch(`${t.url}/web/fonts/open-sans-400.woff2`);
    expect(font.headers.get('content-type')).toBe('font/woff2');
    const js = await fetch(`${t.url}/web/kiosk.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers 304 to a page it has sent before, and 404 outside its files', async () => {
    const first = await fetch(`${t.url}/web/kiosk.css`);
    const etag = first.headers.get('etag')!;
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(`${t.url}/web/kiosk.css`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    for (const path of ['/web/../package.json', '/web/%2e%2e/package.json', '/web/nope.js', '/web/']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(404);
    }
  });

  it('gives the kiosk the bank layout without a login, and nothing about bookings or doors', async () => {
    const token = await t.login('staff');
    await t.api('POST', '/api/v1/dossiers', { code: 'LAYOUT-1', phone: '0912345678', size: 'S' }, token);
    const res = await t.api('GET', '/api/v1/kiosk/layout');
    expect(res.status).toBe(200);
    expect(res.body.columns).toBe(4);
    expect(res.body.rows).toBe(6);
    expect(res.body.compartments).toHaveLength(24);
    expect(res.body.compartments[0]).toEqual({ number: 1, size: 'S', column: 1, row: 1 });
    for (const c of res.body.compartments) expect(Object.keys(c).sort()).toEqual(['column', 'number', 'row', 'size']);
    expect(JSON.stringify(res.body)).not.toMatch(/status|door|loading|LAYOUT-1/);
  });

  it('shows the simulated doors, latch included, to anyone', async () => {
    const token = await t.login('staff');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'SIM-1', phone: '0912345679', size: 'M' }, token);
    const n = reg.body.compartment;
    t.sim.setDoor(n, true);
    const res = await t.api('GET', '/api/v1/sim/doors');
    expect(res.status).toBe(200);
    const door = res.body.compartments.find((c: any) => c.number === n);
    expect(door).toMatchObject({ door: 'open', unlocked: true, size: 'M' });
    expect(res.body.compartments.find((c: any) => c.number === 24)).toMatchObject({ door: 'closed', unlocked: false });
    expect(JSON.stringify(res.body)).not.toContain('SIM-1');
  });
});

describe('without simulated doors', () => {
  let t: TestLocker;
  beforeAll(async () => {
    const bus: DoorBus = {
      driver: 'fake-hardware',
      start: async () => {},
      stop: async () => {},
      unlock: async () => ({ energisedAt: 0 }),
      doorState: () => 'closed',
      onEvent: () => () => {},
      energised: () => [],
    };
    t = await startLocker({ overrides: { doorBus: bus } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('has no simulator page or endpoints, but still the kiosk and its layout', async () => {
    expect((await fetch(`${t.url}/sim`)).status).toBe(404);
    expect((await fetch(`${t.url}/api/v1/sim/doors`)).status).toBe(404);
    expect((await fetch(`${t.url}/`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/kiosk/layout`)).status).toBe(200);
  });
});

describe('auditor view helpers', () => {
  const ev = (seq: number, over: Record<string, unknown> = {}) => ({
    id: `id-${seq}`,
    seq,
    at: `2026-11-2${seq}T10:00:00.000Z`,
    type: 'door.opened',
    actor: 'system',
    compartment: seq,
    dossier: `H29.${seq}`,
    prevHash: seq === 1 ? '0'.repeat(64) : `h${seq - 1}`,
    hash: `h${seq}`,
    ...over,
  });

  it('filters by type, compartment, part of a dossier code and a date range', () => {
    const events = [ev(1), ev(2, { type: 'pickup.succeeded' }), ev(3)];
    expect(events.filter((e) => matches(e, { type: 'pickup.succeeded' })).map((e) => e.seq)).toEqual([2]);
    expect(events.filter((e) => matches(e, { compartment: 3 })).map((e) => e.seq)).toEqual([3]);
    expect(events.filter((e) => matches(e, { dossier: 'h29.2' })).map((e) => e.seq)).toEqual([2]);
    const from = new Date('2026-11-22T00:00:00Z');
    const to = new Date('2026-11-23T00:00:00Z');
    expect(events.filter((e) => matches(e, { from, to })).map((e) => e.seq)).toEqual([2]);
  });

  it('finds a missing event or a broken link', () => {
    expect(checkLinks([ev(1), ev(2), ev(3)])).toEqual({ ok: true, count: 3 });
    expect(checkLinks([ev(1), ev(3)])).toEqual({ ok: false, at: 3 });
    expect(checkLinks([ev(1), ev(2, { prevHash: 'forged' })])).toEqual({ ok: false, at: 2 });
    expect(checkLinks([ev(1, { prevHash: 'x' })])).toEqual({ ok: false, at: 1 });
  });

  it('writes CSV that a spreadsheet reads back unchanged and never runs as a formula', () => {
    const csv = toCsv([ev(1, { data: { reason: 'say "hi", then\nleave' } }), ev(2, { actor: '=HYPERLINK("x")' })]);
    expect(csv.startsWith('\uFEFFseq,id,at,type,actor,compartment,dossier,data,prevHash,hash\r\n')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[1]).toBe(`1,id-1,2026-11-21T10:00:00.000Z,door.opened,system,1,H29.1,"{""reason"":""say \\""hi\\"", then\\nleave""}",${'0'.repeat(64)},h1`);
    expect(lines[2]).toContain(`,"'=HYPERLINK(""x"")",`);
    expect(lines[3]).toBe('');
  });
});
