// The central HTTP API as the contract's central table has it: sessions and roles, the lockers'
// status, pickup search with filters and paging, CSV export, verification, commands to a real
// locker through the broker, health, and the auditors' page. Bad input is a 4xx, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { FleetLocker } from './fleet.ts';
import { freshDb, pgUnavailable, startCentral, waitUntil, type DbKind, type DbPlace, type TestCentral } from './helpers.ts';
import { makeTrail, wire } from './trail.ts';

const pgWhy = await pgUnavailable();

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const skip = kind === 'postgres' && pgWhy !== null;
  describe.skipIf(skip)(`central HTTP API on ${kind}${skip ? ` (skipped: PostgreSQL not reachable: ${pgWhy})` : ''}`, () => {
    let broker: TestBroker;
    let place: DbPlace;
    let c: TestCentral;
    let auditor: string;
    let admin: string;
    // Two lockers' trails fed straight in: lk-north 30 events (10 pickups), lk-south 12 (4).
    const north = makeTrail(30, 'N', Date.parse('2026-11-23T08:00:00Z'));
    const south = makeTrail(12, 'S', Date.parse('2026-11-23T08:00:30Z'));

    beforeAll(async () => {
      broker = await startBroker();
      place = freshDb(kind);
      c = await startCentral({ db: place, brokerUrl: broker.url, env: { CENTRAL_COMMAND_TIMEOUT_MS: '3000' } });
      for (const e of north) await c.central.ctx.ingest.event('lk-north', wire(e, 'lk-north'));
      for (const e of south) await c.central.ctx.ingest.event('lk-south', wire(e, 'lk-south'));
      auditor = await c.login('auditor');
      admin = await c.login('admin');
    });
    afterAll(async () => {
      await c?.stop();
      await place?.drop();
      await broker?.close();
    });

    it('logs in, refuses a wrong password with 401 and throttles the sixth try with 429 and Retry-After', async () => {
      expect((await c.api('POST', '/api/v1/session', { username: 'auditor1', password: 'pw-auditor1-long' })).body).toMatchObject({ role: 'auditor', token: expect.any(String) });
      await c.central.ctx.auth.addUser('victim', 'auditor', 'the right password');
      for (let i = 0; i < 5; i++) expect((await c.api('POST', '/api/v1/session', { username: 'victim', password: 'wrong password' })).status).toBe(401);
      const r = await c.api('POST', '/api/v1/session', { username: 'victim', password: 'the right password' });
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.error).toBe('throttled');
    });

    it('lets auditors and admins read, only admins act, and nobody without a valid token', async () => {
      expect((await c.api('GET', '/api/v1/lockers')).status).toBe(401);
      expect((await c.api('GET', '/api/v1/pickups', undefined, 'x'.repeat(43))).status).toBe(401);
      expect((await c.api('GET', '/api/v1/lockers', undefined, auditor)).status).toBe(200);
      expect((await c.api('GET', '/api/v1/lockers', undefined, admin)).status).toBe(200);
      const cmd = await c.api('POST', '/api/v1/lockers/lk-north/commands', { command: 'state/get' }, auditor);
      expect(cmd).toMatchObject({ status: 403, body: { error: 'forbidden' } });
      const out = await c.api('DELETE', '/api/v1/session', undefined, auditor);
      expect(out.status).toBe(204);
      expect((await c.api('GET', '/api/v1/lockers', undefined, auditor)).status).toBe(401);
      auditor = await c.login('auditor');
    });

    it('lists every locker with its events, alarms and verification', async () => {
      const r = await c.api('GET', '/api/v1/lockers', undefined, auditor);
      expect(r.body.lockers.map((l: any) => [l.id, l.events, l.alarms, l.verified, l.online, l.since])).toEqual([
        ['lk-north', 30, 0, true, false, null],
        ['lk-south', 12, 0, true, false, null],
      ]);
      expect(r.body.lockers[0].compartments).toEqual({ free: 0, occupied: 0, fault: 0, loading: 0, disabled: 0 });
      expect((await c.api('GET', '/api/v1/lockers/lk-south/verify', undefined, auditor)).body).toEqual({
        ok: true,
        count: 12,
        gaps: [],
        broken: [],
        conflicts: [],
        latestSeq: 12,
        head: south[11].hash,
      });
      expect((await c.api('GET', '/api/v1/lockers/lk-nowhere/verify', undefined, auditor)).status).toBe(404);
    });

    it('finds pickups by dossier, locker and inclusive time range, oldest first, page by page', async () => {
      const all: any[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const r: any = await c.api('GET', `/api/v1/pickups?limit=4${after ? `&after=${after}` : ''}`, undefined, auditor);
        expect(r.status).toBe(200);
        all.push(...r.body.pickups);
        pages++;
        if (r.body.next === null) break;
        after = r.body.next;
      }
      expect(pages).toBe(4);
      expect(all).toHaveLength(14);
      const times = all.map((p) => Date.parse(p.at));
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(all[0]).toEqual({ locker: 'lk-north', dossier: 'N-3', compartment: 4, at: north[2].at, eventId: north[2].id, seq: 3, verified: true });

      const byDossier = await c.api('GET', '/api/v1/pickups?dossier=S-6', undefined, auditor);
      expect(byDossier.body).toEqual({ pickups: [expect.objectContaining({ locker: 'lk-south', dossier: 'S-6', eventId: south[5].id })], next: null });
      const byLocker = await c.api('GET', '/api/v1/pickups?locker=lk-south', undefined, auditor);
      expect(byLocker.body.pickups.map((p: any) => p.dossier)).toEqual(['S-3', 'S-6', 'S-9', 'S-12']);
      // Inclusive at both ends: N-6 at 08:06:00.000 and N-12 at 08:12:00.000 are in.
      const window = await c.api('GET', `/api/v1/pickups?locker=lk-north&from=${north[5].at}&to=${north[11].at}`, undefined, auditor);
      expect(window.body.pickups.map((p: any) => p.dossier)).toEqual(['N-6', 'N-9', 'N-12']);
      const offset = await c.api('GET', '/api/v1/pickups?locker=lk-north&from=2026-11-23T15:06:00%2B07:00&to=2026-11-23T15:09:00%2B07:00', undefined, auditor);
      expect(offset.body.pickups.map((p: any) => p.dossier)).toEqual(['N-6', 'N-9']);
      const day = await c.api('GET', '/api/v1/pickups?from=2026-11-23&to=2026-11-23&limit=1000', undefined, auditor);
      expect(day.body.pickups).toHaveLength(14);
      expect((await c.api('GET', '/api/v1/pickups?to=2026-11-22', undefined, auditor)).body).toEqual({ pickups: [], next: null });
    });

    it('exports the same search as CSV', async () => {
      const r = await c.api('GET', '/api/v1/pickups.csv?locker=lk-south', undefined, auditor);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="pickups-\d{4}-\d{2}-\d{2}\.csv"/);
      const lines = r.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('locker,dossier,compartment,at,eventId,seq,verified');
      expect(lines.slice(1)).toEqual(
        south.filter((e) => e.dossier).map((e) => `"lk-south","${e.dossier}",${e.compartment},"${e.at}","${e.id}",${e.seq},true`),
      );
      const everything = await c.api('GET', '/api/v1/pickups.csv', undefined, auditor);
      expect(everything.text.trimEnd().split('\r\n')).toHaveLength(15);
      expect((await c.api('GET', '/api/v1/pickups.csv')).status).toBe(401);
    });

    it('serves the stored trail of a locker in seq order, as the locker published it', async () => {
      const r = await c.api('GET', '/api/v1/lockers/lk-south/events?after=10&limit=5', undefined, auditor);
      expect(r.body).toEqual({ events: south.slice(10), next: null });
    });

    it('answers bad input with a 4xx and a message, and changes nothing', async () => {
      const bad: [string, string, unknown, number][] = [
        ['GET', '/api/v1/pickups?limit=0', undefined, 400],
        ['GET', '/api/v1/pickups?limit=1001', undefined, 400],
        ['GET', '/api/v1/pickups?limit=ten', undefined, 400],
        ['GET', '/api/v1/pickups?from=yesterday', undefined, 400],
        ['GET', '/api/v1/pickups?from=2026-13-45', undefined, 400],
        ['GET', '/api/v1/pickups?from=2026-11-24&to=2026-11-23', undefined, 400],
        ['GET', '/api/v1/pickups?dossier=has%20space', undefined, 400],
        ['GET', '/api/v1/pickups?locker=a/b', undefined, 400],
        ['GET', '/api/v1/pickups?after=page-two', undefined, 400],
        ['GET', '/api/v1/pickups?colour=red', undefined, 400],
        ['GET', '/api/v1/lockers/bad%20id/verify', undefined, 400],
        ['GET', '/api/v1/lockers/lk-north/events?limit=5000', undefined, 400],
        ['GET', '/api/v1/alarms?open=maybe', undefined, 400],
        ['POST', '/api/v1/alarms/999/close', { note: 'checked' }, 404],
        ['POST', '/api/v1/alarms/1/close', { note: '' }, 400],
        ['POST', '/api/v1/lockers/lk-north/commands', { command: 'door/open', args: { number: 1 } }, 400],
        ['POST', '/api/v1/lockers/lk-north/commands', { command: 'compartment/disable', args: { number: 'one' } }, 400],
        ['POST', '/api/v1/lockers/lk-north/commands', { command: 'compartment/disable', args: { number: 1, transaction: 'x' } }, 400],
        ['POST', '/api/v1/lockers/lk-north/commands', { command: 'dossier/cancel', args: { code: 'no spaces allowed' } }, 400],
        ['POST', '/api/v1/lockers/lk-north/commands', { command: 'state/get', extra: true }, 400],
        ['POST', '/api/v1/lockers/lk-nowhere/commands', { command: 'state/get' }, 404],
        ['POST', '/api/v1/lockers/lk-north/commands', '{"command":', 400],
        ['GET', '/api/v1/commands/central-nothing', undefined, 404],
      ];
      for (const [method, path, body, status] of bad) {
        const r = await c.api(method, path, body, admin);
        expect({ path, body, status: r.status }).toEqual({ path, body, status });
        expect(r.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
      }
      expect((await c.api('POST', '/api/v1/session', { username: 'x', password: 'y', extra: 1 })).status).toBe(400);
      expect((await c.api('GET', '/api/v1/lockers/lk-north/commands', undefined, admin)).body).toEqual({ commands: [] });
    });

    it('says how it is in /healthz, and /metrics answers on the host', async () => {
      const h = await c.api('GET', '/healthz');
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', service: 'central', database: { state: 'ok', kind, lockers: 2, events: 42 }, mqtt: { state: 'connected', subscribed: true } });
      const m = await c.api('GET', '/metrics');
      expect(m.text).toMatch(/^central_events_stored 42$/m);
    });

    it('serves the auditors\' page and its files from itself, with a password field', async () => {
      const page = await c.api('GET', '/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(page.text).toMatch(/<input[^>]+type="password"/);
      const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('#'));
      expect(refs.length).toBeGreaterThan(0);
      for (const u of refs) {
        expect(u).toMatch(/^\//);
        expect((await c.api('GET', u)).status).toBe(200);
      }
      const js = await c.api('GET', '/web/central.js');
      expect(js.text).not.toMatch(/https?:\/\//);
      const docs = await c.api('GET', '/docs');
      expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/lockers', '/api/v1/pickups', '/api/v1/lockers/{id}/verify', '/api/v1/lockers/{id}/commands']));
    });

    it('sends commands to a real locker and records its answers; an offline locker answers when it is back', { timeout: 60_000 }, async () => {
      const locker = await FleetLocker.start(broker, 'lk-cmd');
      try {
        await locker.pickup();
        await waitUntil('the locker known', async () => (await c.api('GET', '/api/v1/lockers', undefined, admin)).body.lockers.some((l: any) => l.id === 'lk-cmd' && l.online));
        const get = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'state/get' }, admin);
        expect(get.status).toBe(200);
        expect(get.body).toMatchObject({ locker: 'lk-cmd', command: 'state/get', status: 'ok', requestedBy: 'staff:admin1', transaction: expect.stringMatching(/^central-/) });
        expect(get.body.data.compartments).toHaveLength(24);

        const off = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'compartment/disable', args: { number: 7, reason: 'broken hinge' }, transaction: 'ticket-4711' }, admin);
        expect(off.body).toMatchObject({ status: 'ok', transaction: 'ticket-4711' });
        expect(locker.t.locker.ctx.compartments.list().find((x) => x.number === 7)!.status).toBe('disabled');
        // The same transaction again: the locker does not apply it twice, the answer is the same.
        const again = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'compartment/disable', args: { number: 7, reason: 'broken hinge' }, transaction: 'ticket-4711' }, admin);
        expect(again.body).toMatchObject({ status: 'ok', transaction: 'ticket-4711' });
        expect(locker.t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'compartment.disabled')).toHaveLength(1);
        const clash = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'compartment/enable', args: { number: 7 }, transaction: 'ticket-4711' }, admin);
        expect(clash.status).toBe(409);
        const refused = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'dossier/cancel', args: { code: 'NOT-THERE' } }, admin);
        expect(refused.body).toMatchObject({ status: 'error', error: { code: expect.any(String) } });
        await waitUntil('the state shows the disabled door', async () => {
          const l = (await c.api('GET', '/api/v1/lockers/lk-cmd', undefined, auditor)).body;
          return l.locker.compartments.disabled === 1 && l.locker.compartments.free === 23;
        });

        // Offline: the request waits at the broker in the locker's session.
        await locker.t.locker.stop();
        await waitUntil('offline noticed', async () => (await c.api('GET', '/api/v1/lockers', undefined, admin)).body.lockers.find((l: any) => l.id === 'lk-cmd').online === false);
        const pending = await c.api('POST', '/api/v1/lockers/lk-cmd/commands', { command: 'compartment/enable', args: { number: 7 } }, admin);
        expect(pending.status).toBe(202);
        expect(pending.body).toMatchObject({ status: 'pending', answeredAt: null });
        await locker.whileStopped(() => undefined);
        await waitUntil('the late answer recorded', async () => (await c.api('GET', `/api/v1/commands/${pending.body.transaction}`, undefined, auditor)).body.status === 'ok');
        expect(locker.t.locker.ctx.compartments.list().find((x) => x.number === 7)!.status).toBe('free');
        const history = (await c.api('GET', '/api/v1/lockers/lk-cmd/commands', undefined, auditor)).body.commands;
        expect(history.map((h: any) => [h.command, h.status])).toEqual(expect.arrayContaining([['compartment/enable', 'ok'], ['compartment/disable', 'ok'], ['state/get', 'ok']]));
      } finally {
        await locker.stop();
      }
    });

    it('lets an admin close a tamper alarm with a note; the locker stays unverified', async () => {
      const forged = { ...north[4], actor: 'staff:mallory' };
      expect(await c.central.ctx.ingest.event('lk-north', wire(forged, 'lk-north'))).toBe('conflict');
      const open = (await c.api('GET', '/api/v1/alarms?open=true&locker=lk-north', undefined, auditor)).body.alarms;
      expect(open).toEqual([expect.objectContaining({ kind: 'conflict', seq: 5, open: true })]);
      expect((await c.api('POST', `/api/v1/alarms/${open[0].id}/close`, { note: 'test publisher, see ticket 12' }, auditor)).status).toBe(403);
      const closed = await c.api('POST', `/api/v1/alarms/${open[0].id}/close`, { note: 'test publisher, see ticket 12' }, admin);
      expect(closed.body.alarms[0]).toMatchObject({ open: false, closedBy: 'staff:admin1', note: 'test publisher, see ticket 12' });
      expect((await c.api('POST', `/api/v1/alarms/${open[0].id}/close`, { note: 'again' }, admin)).status).toBe(409);
      const l = (await c.api('GET', '/api/v1/lockers', undefined, auditor)).body.lockers.find((x: any) => x.id === 'lk-north');
      expect(l).toMatchObject({ alarms: 0, verified: false });
      expect((await c.api('GET', '/api/v1/lockers/lk-north/verify', undefined, auditor)).body).toMatchObject({ ok: false, broken: [5], conflicts: [5] });
    });
  });
}
