// What the central service makes of a locker's own alarms and of undone pickups, on SQLite and
// (when reachable) PostgreSQL: a locker alarm is listed open until the locker's `alarm.acknowledged`
// arrives (in either order), and a reverted pickup is not listed as a pickup.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openCentralDb } from '../../server/central/db/open.ts';
import type { CentralDb } from '../../server/central/db/sql.ts';
import { Ingestor } from '../../server/central/ingest.ts';
import { listAlarms, listLockers, listPickups } from '../../server/central/queries.ts';
import { GENESIS_HASH, hashEvent, type AuditEvent } from '../../server/domain/audit-event.ts';
import { ManualClock } from '../helpers/clock.ts';
import { freshDb, pgUnavailable, type DbKind } from './helpers.ts';
import { wire } from './trail.ts';

const pgWhy = await pgUnavailable();
const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

type Step = Pick<AuditEvent, 'type' | 'actor'> & Partial<Pick<AuditEvent, 'compartment' | 'dossier' | 'data'>>;

/** A chained trail of the given events, a minute apart. */
function chain(steps: Step[]): AuditEvent[] {
  const t0 = Date.parse('2026-11-23T08:00:00Z');
  let prev = GENESIS_HASH;
  return steps.map((s, i) => {
    const body: Omit<AuditEvent, 'hash'> = { id: randomUUID(), seq: i + 1, at: new Date(t0 + (i + 1) * 60_000).toISOString(), ...s, prevHash: prev };
    const e = { ...body, hash: hashEvent(body) };
    prev = e.hash;
    return e;
  });
}

async function setup(kind: DbKind) {
  const place = freshDb(kind);
  cleanups.push(() => place.drop());
  const env = place.env;
  const db: CentralDb = await openCentralDb({ dataDir: env.CENTRAL_DATA_DIR, databaseUrl: env.CENTRAL_DATABASE_URL ?? null, databaseSchema: env.CENTRAL_DATABASE_SCHEMA ?? null });
  cleanups.push(() => db.close());
  const clock = new ManualClock(Date.parse('2026-11-24T09:00:00Z'));
  return { db, clock, ingest: new Ingestor(db, clock, silent, { gapGraceMs: 0 }) };
}

const ALARM_TRAIL: Step[] = [
  { type: 'door.forced_open', actor: 'system', compartment: 5 },
  { type: 'door.jammed', actor: 'system', compartment: 6 },
  { type: 'alarm.acknowledged', actor: 'staff:clerk', compartment: 5, data: { alarmSeq: 1, alarmType: 'door.forced_open', note: 'cleaner' } },
];

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const skip = kind === 'postgres' && pgWhy !== null;
  describe.skipIf(skip)(`locker alarms and reverted pickups on ${kind}${skip ? ` (skipped: PostgreSQL not reachable: ${pgWhy})` : ''}`, () => {
    it('lists a locker alarm as open until the locker says it was acknowledged, then as handled by that clerk', async () => {
      const { db, clock, ingest } = await setup(kind);
      const trail = chain(ALARM_TRAIL);
      for (const e of trail.slice(0, 2)) expect(await ingest.event('lk-1', wire(e, 'lk-1'))).toBe('stored');
      expect((await listAlarms(db, { open: true })).map((a) => [a.kind, a.seq])).toEqual([
        ['door.jammed', 2],
        ['door.forced_open', 1],
      ]);
      expect((await listLockers(db, clock.now()))[0].alarms).toBe(2);
      await ingest.event('lk-1', wire(trail[2], 'lk-1'));
      expect((await listAlarms(db, { open: true })).map((a) => a.seq)).toEqual([2]);
      const [handled] = await listAlarms(db, { open: false });
      expect(handled).toMatchObject({ kind: 'door.forced_open', seq: 1, open: false, closedBy: 'staff:clerk', note: 'cleaner' });
      expect((await listLockers(db, clock.now()))[0]).toMatchObject({ alarms: 1, verified: true });
    });

    it('stores an alarm that arrives after its acknowledgement as handled', async () => {
      const { db, ingest } = await setup(kind);
      const trail = chain(ALARM_TRAIL);
      for (const i of [2, 1, 0]) await ingest.event('lk-1', wire(trail[i], 'lk-1'));
      expect((await listAlarms(db, { open: true })).map((a) => a.seq)).toEqual([2]);
      expect((await listAlarms(db, { open: false }))[0]).toMatchObject({ seq: 1, closedBy: 'staff:clerk' });
    });

    it('does not list a reverted pickup; a later pickup of the same dossier is listed', async () => {
      const { db, ingest } = await setup(kind);
      const trail = chain([
        { type: 'dossier.ready', actor: 'staff:clerk', compartment: 3, dossier: 'D-1', data: { expiresAt: '2026-11-30T08:00:00.000Z' } },
        { type: 'pickup.succeeded', actor: 'citizen', compartment: 3, dossier: 'D-1' },
        { type: 'pickup.succeeded', actor: 'citizen', compartment: 4, dossier: 'D-2' },
        { type: 'pickup.reverted', actor: 'system', compartment: 3, dossier: 'D-1', data: { reason: 'door_not_opened' } },
        { type: 'door.closed', actor: 'system', compartment: 9 },
        { type: 'pickup.succeeded', actor: 'citizen', compartment: 3, dossier: 'D-1' },
      ]);
      for (const e of trail) await ingest.event('lk-1', wire(e, 'lk-1'));
      // The same dossier code at another locker is another dossier: its pickup stays.
      const other = chain([{ type: 'pickup.succeeded', actor: 'citizen', compartment: 3, dossier: 'D-1' }]);
      await ingest.event('lk-2', wire(other[0], 'lk-2'));
      const listed = (await listPickups(db, {}, null, 100)).pickups.map((p) => [p.locker, p.dossier, p.seq]);
      expect(listed).toEqual([
        ['lk-2', 'D-1', 1],
        ['lk-1', 'D-2', 3],
        ['lk-1', 'D-1', 6],
      ]);
      expect((await listPickups(db, { dossier: 'D-1', locker: 'lk-1' }, null, 100)).pickups.map((p) => p.seq)).toEqual([6]);
      const d = await db.get<{ status: string }>(`SELECT status FROM dossiers WHERE locker = 'lk-1' AND code = 'D-1'`);
      expect(d!.status).toBe('picked_up');
    });

    it('shows a dossier whose pickup was reverted as ready again', async () => {
      const { db, ingest } = await setup(kind);
      const trail = chain([
        { type: 'pickup.succeeded', actor: 'citizen', compartment: 3, dossier: 'D-9' },
        { type: 'pickup.reverted', actor: 'system', compartment: 3, dossier: 'D-9' },
      ]);
      for (const e of trail) await ingest.event('lk-1', wire(e, 'lk-1'));
      expect((await listPickups(db, {}, null, 100)).pickups).toEqual([]);
      expect((await db.get<{ status: string }>(`SELECT status FROM dossiers WHERE code = 'D-9'`))!.status).toBe('ready');
    });
  });
}
