// Storing what the lockers publish, on SQLite and (when reachable) PostgreSQL: once per event,
// whatever the number of deliveries; every hash and link checked on arrival and again on demand;
// alarms for a broken chain, a conflicting copy, a malformed message, and a gap that outlasts
// the grace period.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { openCentralDb } from '../../server/central/db/open.ts';
import { migrateCentral } from '../../server/central/db/migrations.ts';
import type { CentralDb } from '../../server/central/db/sql.ts';
import { Ingestor } from '../../server/central/ingest.ts';
import { listAlarms, listLockers, listPickups } from '../../server/central/queries.ts';
import { checkTrail, missingRanges } from '../../server/central/trail-check.ts';
import { verifyChain } from '../../server/domain/audit-event.ts';
import { ManualClock } from '../helpers/clock.ts';
import { freshDb, pgUnavailable, type DbKind, type DbPlace } from './helpers.ts';
import { makeTrail, rehash, wire } from './trail.ts';

const pgWhy = await pgUnavailable();
const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function open(place: DbPlace): Promise<CentralDb> {
  const env = place.env;
  const db = await openCentralDb({ dataDir: env.CENTRAL_DATA_DIR, databaseUrl: env.CENTRAL_DATABASE_URL ?? null, databaseSchema: env.CENTRAL_DATABASE_SCHEMA ?? null });
  cleanups.push(() => db.close());
  return db;
}

async function setup(kind: DbKind, graceMs = 0) {
  const place = freshDb(kind);
  cleanups.push(() => place.drop());
  const db = await open(place);
  const clock = new ManualClock(Date.parse('2026-11-24T09:00:00Z'));
  const ingest = new Ingestor(db, clock, silent, { gapGraceMs: graceMs });
  return { place, db, clock, ingest };
}

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const skip = kind === 'postgres' && pgWhy !== null;
  describe.skipIf(skip)(`ingest into ${kind}${skip ? ` (skipped: PostgreSQL not reachable: ${pgWhy})` : ''}`, () => {
    it('stores each event once however often it is delivered, and the stored trail verifies', async () => {
      const { db, ingest, clock } = await setup(kind);
      const trail = makeTrail(30);
      for (const e of trail) expect(await ingest.event('lk-1', wire(e, 'lk-1'))).toBe('stored');
      for (const e of trail.slice(10, 20)) expect(await ingest.event('lk-1', wire(e, 'lk-1'))).toBe('duplicate');
      const [l] = await listLockers(db, clock.now());
      expect(l).toMatchObject({ id: 'lk-1', events: 30, latestSeq: 30, verified: true, alarms: 0 });
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: true, count: 30, gaps: [], broken: [], head: trail[29].hash });
      expect((await db.get<{ duplicates: number }>('SELECT duplicates FROM lockers'))!.duplicates).toBe(10);
      const pickups = await listPickups(db, {}, null, 100);
      expect(pickups.pickups.map((p) => p.dossier)).toEqual(trail.filter((e) => e.dossier).map((e) => e.dossier));
      expect(pickups.pickups.every((p) => p.verified)).toBe(true);
      // What is stored is what was published: the locker's own verifier accepts it.
      const bodies = await db.all<{ body: string }>('SELECT body FROM events ORDER BY seq');
      expect(verifyChain(bodies.map((b) => JSON.parse(b.body)))).toMatchObject({ ok: true, count: 30, head: trail[29].hash });
    });

    it('flags an event changed after hashing at its own seq, and one re-hashed to hide it at the next seq', async () => {
      const { db, ingest, clock } = await setup(kind);
      const trail = makeTrail(9);
      const edited = trail.map((e) => (e.seq === 6 ? { ...e, dossier: 'SOMEONE-ELSE' } : e));
      for (const e of edited) await ingest.event('lk-edit', wire(e, 'lk-edit'));
      const covered = makeTrail(9).map((e) => (e.seq === 6 ? rehash({ ...e, dossier: 'SOMEONE-ELSE' }) : e));
      for (const e of covered) await ingest.event('lk-cover', wire(e, 'lk-cover'));
      expect(await checkTrail(db, 'lk-edit')).toMatchObject({ ok: false, count: 9, gaps: [], broken: [6] });
      expect(await checkTrail(db, 'lk-cover')).toMatchObject({ ok: false, count: 9, gaps: [], broken: [7] });
      const alarms = await listAlarms(db, { open: true });
      expect(alarms.map((a) => [a.locker, a.kind, a.seq]).sort()).toEqual([
        ['lk-cover', 'broken', 7],
        ['lk-edit', 'broken', 6],
      ]);
      const ls = await listLockers(db, clock.now());
      expect(ls.map((l) => [l.id, l.verified, l.alarms])).toEqual([
        ['lk-cover', false, 1],
        ['lk-edit', false, 1],
      ]);
      const p = await listPickups(db, { locker: 'lk-edit', dossier: 'SOMEONE-ELSE' }, null, 10);
      expect(p.pickups).toEqual([expect.objectContaining({ seq: 6, verified: false })]);
    });

    it('keeps the first copy of an event and files a different second copy as evidence with a conflict alarm', async () => {
      const { db, ingest } = await setup(kind);
      const trail = makeTrail(5);
      for (const e of trail) await ingest.event('lk-1', wire(e, 'lk-1'));
      const forgedSameId = rehash({ ...trail[2], actor: 'staff:mallory' });
      const forgedNewId = rehash({ ...trail[3], id: '11111111-2222-3333-4444-555555555555' });
      expect(await ingest.event('lk-1', wire(forgedSameId, 'lk-1'))).toBe('conflict');
      expect(await ingest.event('lk-1', wire(forgedNewId, 'lk-1'))).toBe('conflict');
      expect(await ingest.event('lk-2', wire(trail[0], 'lk-2'))).toBe('conflict');
      const stored = await db.all<{ seq: number; id: string; actor: string }>("SELECT seq, id, actor FROM events WHERE locker = 'lk-1' ORDER BY seq");
      expect(stored.map((r) => r.id)).toEqual(trail.map((e) => e.id));
      expect(stored[2].actor).toBe(trail[2].actor);
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: false, count: 5, gaps: [], broken: [3, 4], conflicts: [3, 4] });
      const evidence = await db.all<{ seq: number; body: string }>("SELECT seq, body FROM event_conflicts WHERE locker = 'lk-1' ORDER BY seq");
      expect(evidence.map((r) => JSON.parse(r.body).hash)).toEqual([forgedSameId.hash, forgedNewId.hash]);
      expect((await listAlarms(db, { open: true })).map((a) => [a.locker, a.kind, a.seq]).sort()).toEqual([
        ['lk-1', 'conflict', 3],
        ['lk-1', 'conflict', 4],
        ['lk-2', 'conflict', 1],
      ]);
    });

    it('checks links whichever order events arrive in; a gap becomes an alarm only after the grace period and closes itself', async () => {
      const { db, ingest, clock } = await setup(kind, 60_000);
      const trail = makeTrail(8);
      for (const e of [trail[0], trail[1], trail[4], trail[3], trail[5], trail[7], trail[6]]) await ingest.event('lk-1', wire(e, 'lk-1'));
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: false, gaps: [3], broken: [] });
      await ingest.sweepGaps();
      expect(await listAlarms(db, {})).toEqual([]);
      clock.advance(59_000);
      await ingest.sweepGaps();
      expect(await listAlarms(db, {})).toEqual([]);
      clock.advance(2_000);
      await ingest.sweepGaps();
      const [gap] = await listAlarms(db, { open: true });
      expect(gap).toMatchObject({ locker: 'lk-1', kind: 'gap', seq: null, detail: { missing: 1, firstMissing: 3, latestSeq: 8 } });
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ verified: false, alarms: 1 });

      await ingest.event('lk-1', wire(trail[2], 'lk-1'));
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: true, count: 8, gaps: [], broken: [] });
      expect(await listAlarms(db, { open: true })).toEqual([]);
      expect((await listAlarms(db, {}))[0]).toMatchObject({ kind: 'gap', open: false, closedBy: 'system' });
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ verified: true, alarms: 0 });
      const links = await db.all<{ link_ok: number | null }>('SELECT link_ok FROM events ORDER BY seq');
      expect(links.map((l) => l.link_ok)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    });

    it('counts seqs the locker announced in its state but never sent as missing', async () => {
      const { db, ingest, clock } = await setup(kind);
      for (const e of makeTrail(3)) await ingest.event('lk-1', wire(e, 'lk-1'));
      const state = { compartments: [{ number: 1, size: 'S', status: 'occupied', door: 'closed' }, { number: 2, size: 'M', status: 'free', door: 'closed' }], seq: 5, at: '2026-11-24T09:00:00.000Z' };
      await ingest.state('lk-1', Buffer.from(JSON.stringify(state)));
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: false, count: 3, gaps: [4, 5], latestSeq: 5 });
      expect((await listAlarms(db, { open: true }))[0]).toMatchObject({ kind: 'gap', detail: { missing: 2, firstMissing: 4 } });
      // An older snapshot (a late retained copy) does not undo a newer one.
      await ingest.state('lk-1', Buffer.from(JSON.stringify({ ...state, seq: 4, compartments: [] })));
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ latestSeq: 5, compartments: { free: 1, occupied: 1, fault: 0 } });
    });

    it('lists the missing ranges to ask the locker for', async () => {
      const { db, ingest } = await setup(kind);
      const trail = makeTrail(9);
      for (const e of [trail[1], trail[4], trail[5], trail[8]]) await ingest.event('lk-1', wire(e, 'lk-1'));
      await ingest.state('lk-1', Buffer.from(JSON.stringify({ compartments: [], seq: 12, at: '2026-11-24T09:00:00.000Z' })));
      expect(await missingRanges(db, 'lk-1', 12, 10)).toEqual([
        { from: 1, to: 1 },
        { from: 3, to: 4 },
        { from: 7, to: 8 },
        { from: 10, to: 12 },
      ]);
      expect(await missingRanges(db, 'lk-1', 12, 2)).toEqual([
        { from: 1, to: 1 },
        { from: 3, to: 4 },
      ]);
      expect(await missingRanges(db, 'lk-none', 4, 10)).toEqual([{ from: 1, to: 4 }]);
      expect((await checkTrail(db, 'lk-1'))!.gaps).toEqual([1, 3, 4, 7, 8, 10, 11, 12]);
    });

    it('raises an alarm for a malformed event and stores nothing from it', async () => {
      const { db, ingest } = await setup(kind);
      const [e] = makeTrail(1);
      expect(await ingest.event('lk-1', Buffer.from('not json'))).toBe('malformed');
      expect(await ingest.event('lk-1', wire({ ...e, hash: 'abc' }, 'lk-1'))).toBe('malformed');
      expect(await ingest.event('lk-1', wire(e, 'lk-other'))).toBe('malformed');
      expect(await ingest.event('lk-1', wire({ ...e, seq: 0 }, 'lk-1'))).toBe('malformed');
      expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n).toBe(0);
      const alarms = await listAlarms(db, { open: true });
      expect(alarms).toEqual([expect.objectContaining({ locker: 'lk-1', kind: 'malformed', occurrences: 4 })]);
    });

    it('re-verifies from the stored bodies, so an event edited inside the central database is found', async () => {
      const { db, ingest, clock } = await setup(kind);
      for (const e of makeTrail(6)) await ingest.event('lk-1', wire(e, 'lk-1'));
      await db.run("UPDATE events SET body = REPLACE(body, '\"DOS-3\"', '\"DOS-X\"'), dossier = 'DOS-X' WHERE seq = 3");
      expect((await listLockers(db, clock.now()))[0].verified).toBe(true);
      expect(await checkTrail(db, 'lk-1')).toMatchObject({ ok: false, broken: [3] });
    });

    it('notes when a locker goes offline and back, and keeps `since` when nothing changed', async () => {
      const { db, ingest, clock } = await setup(kind);
      const say = (state: string) => ingest.availability('lk-1', Buffer.from(JSON.stringify({ state })));
      await say('online');
      const t1 = clock.now();
      clock.advance(5000);
      await say('online');
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ online: true, since: new Date(t1).toISOString() });
      clock.advance(5000);
      await say('offline');
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ online: false, availability: 'offline', since: new Date(clock.now()).toISOString() });
      expect(await ingest.availability('lk-1', Buffer.from('{"state":"sleeping"}'))).toBe(false);
    });

    it('tracks overdue dossiers from their events, the latest seq winning whatever the arrival order', async () => {
      const { db, ingest, clock } = await setup(kind);
      const ev = (seq: number, type: string, dossier: string, data?: Record<string, unknown>) => ({ seq, type, dossier, data });
      const plan = [
        ev(1, 'dossier.loading', 'A'),
        ev(2, 'dossier.ready', 'A', { expiresAt: '2026-11-20T00:00:00.000Z' }),
        ev(3, 'dossier.loading', 'B'),
        ev(4, 'dossier.ready', 'B', { expiresAt: '2026-11-20T00:00:00.000Z' }),
        ev(5, 'pickup.succeeded', 'B'),
        ev(6, 'dossier.loading', 'C'),
        ev(7, 'dossier.ready', 'C', { expiresAt: '2026-12-30T00:00:00.000Z' }),
      ];
      const { hashEvent, GENESIS_HASH } = await import('../../server/domain/audit-event.ts');
      let prev = GENESIS_HASH;
      const events = plan.map((p) => {
        const body = { id: `e-${p.seq}`, seq: p.seq, at: '2026-11-19T00:00:00.000Z', type: p.type, actor: 'system', compartment: p.seq, dossier: p.dossier, ...(p.data ? { data: p.data } : {}), prevHash: prev };
        const e = { ...body, hash: hashEvent(body) };
        prev = e.hash;
        return e;
      });
      for (const e of [...events].reverse()) await ingest.event('lk-1', wire(e, 'lk-1'));
      expect((await listLockers(db, clock.now()))[0].overdue).toBe(1);
      const rows = await db.all<{ code: string; status: string }>('SELECT code, status FROM dossiers ORDER BY code');
      expect(rows).toEqual([
        { code: 'A', status: 'ready' },
        { code: 'B', status: 'picked_up' },
        { code: 'C', status: 'ready' },
      ]);
    });

    it('migrates once: opening the database again applies nothing', async () => {
      const { db } = await setup(kind);
      expect(await migrateCentral(db)).toBe(0);
      expect(await db.all('SELECT version FROM central_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);
    });

    // In one process two SQLite connections would wait on each other's lock synchronously; several
    // instances on SQLite are separate processes (test/central/scale.test.ts).
    it.skipIf(kind === 'sqlite')('checks every link when two instances store one locker\'s events at the same time', async () => {
      const { place, db, clock } = await setup(kind);
      const db2 = await open(place);
      const one = new Ingestor(db, clock, silent, { gapGraceMs: 0 });
      const two = new Ingestor(db2, clock, silent, { gapGraceMs: 0 });
      const trail = makeTrail(60);
      const pairs = [];
      for (let i = 0; i < trail.length; i += 2) pairs.push([trail[i], trail[i + 1]]);
      for (const [x, y] of pairs) await Promise.all([one.event('lk-1', wire(x, 'lk-1')), two.event('lk-1', wire(y, 'lk-1'))]);
      const links = await db.all<{ link_ok: number | null; hash_ok: number }>('SELECT link_ok, hash_ok FROM events ORDER BY seq');
      expect(links.filter((l) => l.link_ok !== 1 || l.hash_ok !== 1)).toEqual([]);
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ events: 60, verified: true, alarms: 0 });
    });
  });
}
