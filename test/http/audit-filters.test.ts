// The trail filtered and paged by the locker (the auditor view reads one page at a time): each
// filter over HTTP, newest-first paging, the count, and bad filter values refused.
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { seedAuditEvents } from '../helpers/seed.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

/** Every event the filter matches, by walking the pages as a client would. */
async function all(token: string, query: string, order: 'asc' | 'desc' = 'asc') {
  const out: any[] = [];
  let cursor: number | null = null;
  for (;;) {
    const page = `${query}&order=${order}&limit=7${cursor === null ? '' : `&${order === 'desc' ? 'before' : 'after'}=${cursor}`}`;
    const r = await t.api('GET', `/api/v1/audit?${page}`, undefined, token);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    out.push(...r.body.events);
    if (r.body.next === null) return out;
    cursor = r.body.next;
  }
}

const seqs = (events: any[]) => events.map((e) => e.seq);

describe('filtering the trail on the locker', () => {
  it('filters by type, compartment, part of a dossier code, actor and time, alone and together', async () => {
    t = await startLocker();
    const staff = await t.login('staff', 'mai');
    const d1 = await loadDossier(t, staff, 'H29.12-251203-0001', '0912345001');
    t.clock.advance(3600_000);
    const d2 = await loadDossier(t, staff, 'H29.12-251203-0002', '0912345002');
    t.clock.advance(3600_000);
    await t.api('POST', '/api/v1/pickups', { phone: '0912345001', code: t.codeFor('0912345001') });
    const auditor = await t.login('auditor', 'kiem');
    const every = await all(auditor, '');
    expect(every.length).toBeGreaterThan(15);
    const expectFilter = async (query: string, pick: (e: any) => boolean) => {
      const want = seqs(every.filter(pick));
      expect(want.length, `${query} matches something`).toBeGreaterThan(0);
      expect(want.length, `${query} leaves something out`).toBeLessThan(every.length);
      expect(seqs(await all(auditor, query)), query).toEqual(want);
    };
    await expectFilter('type=door.unlocked', (e) => e.type === 'door.unlocked');
    await expectFilter('type=pickup.succeeded,dossier.ready', (e) => e.type === 'pickup.succeeded' || e.type === 'dossier.ready');
    await expectFilter(`compartment=${d2}`, (e) => e.compartment === d2);
    await expectFilter('dossier=251203-0002', (e) => e.dossier === 'H29.12-251203-0002');
    await expectFilter('dossier=h29.12-251203-000', (e) => (e.dossier ?? '').startsWith('H29.12-251203-000'));
    await expectFilter('actor=citizen', (e) => e.actor === 'citizen');
    await expectFilter('actor=staff:mai', (e) => e.actor === 'staff:mai');
    await expectFilter('actor=staff', (e) => e.actor.startsWith('staff:'));
    await expectFilter('actor=system', (e) => e.actor === 'system');
    const split = every.find((e) => e.dossier === 'H29.12-251203-0002').at;
    await expectFilter(`from=${encodeURIComponent(split)}`, (e) => e.at >= split);
    await expectFilter(`to=${encodeURIComponent(split)}`, (e) => e.at <= split);
    await expectFilter(`compartment=${d1}&type=door.closed&actor=system`, (e) => e.compartment === d1 && e.type === 'door.closed' && e.actor === 'system');
    // The same filter newest first: the same events, reversed.
    expect(seqs(await all(auditor, `compartment=${d1}`, 'desc'))).toEqual(seqs(every.filter((e) => e.compartment === d1)).reverse());
  });

  it("reads a plain day as the office's local day (LOCKER_TIMEZONE), both ends inclusive", async () => {
    // 2026-11-23T16:59:30Z is 23:59:30 on the 23rd in Ho Chi Minh City; 17:00:30Z is 00:00:30 on the 24th.
    t = await startLocker();
    t.clock.t = Date.parse('2026-11-23T16:59:00Z');
    seedAuditEvents(t, 4, { stepMs: 30_000 });
    const auditor = await t.login('auditor');
    const at = (await all(auditor, 'dossier=251203-00000')).map((e) => e.at);
    expect(at).toEqual(['2026-11-23T16:59:00.000Z', '2026-11-23T16:59:30.000Z', '2026-11-23T17:00:00.000Z', '2026-11-23T17:00:30.000Z']);
    const day = async (query: string) => (await all(auditor, `${query}&dossier=251203-00000`)).map((e) => e.at);
    expect(await day('from=2026-11-24&to=2026-11-24')).toEqual(at.slice(2));
    expect(await day('to=2026-11-23')).toEqual(at.slice(0, 2));
    expect(await day('from=2026-11-23T17:00:00Z')).toEqual(at.slice(2));
    expect(await day('from=2026-11-24T00:00:00%2B07:00')).toEqual(at.slice(2));
  });

  it('pages newest first and counts every match, at 20,000 events', async () => {
    t = await startLocker();
    seedAuditEvents(t, 20_000);
    const auditor = await t.login('auditor');
    const head = t.locker.ctx.audit.latestSeq();
    const first = await t.api('GET', '/api/v1/audit?order=desc&limit=100&count=true', undefined, auditor);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(head);
    expect(seqs(first.body.events)).toEqual(Array.from({ length: 100 }, (_, i) => head - i));
    expect(first.body.next).toBe(head - 99);
    const second = await t.api('GET', `/api/v1/audit?order=desc&limit=100&before=${first.body.next}`, undefined, auditor);
    expect(second.body.events[0].seq).toBe(head - 100);
    expect(second.body).not.toHaveProperty('total');
    const pickups = await t.api('GET', '/api/v1/audit?type=pickup.succeeded&order=desc&limit=5&count=true', undefined, auditor);
    expect(pickups.body.total).toBe(2500);
    expect(pickups.body.events.every((e: any) => e.type === 'pickup.succeeded')).toBe(true);
    // The contract's page is unchanged when no addition is asked for.
    const plain = await t.api('GET', '/api/v1/audit?after=0&limit=3', undefined, auditor);
    expect(Object.keys(plain.body).sort()).toEqual(['events', 'next']);
    expect(seqs(plain.body.events)).toEqual([1, 2, 3]);
  });

  it('answers every bad filter value with 400 naming the problem, and writes nothing', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'B-1', '0912345678');
    const auditor = await t.login('auditor');
    const db = t.locker.ctx.store.db;
    const rows = () => db.prepare('SELECT COUNT(*) AS n, MAX(seq) AS head FROM audit_events').get();
    const before = rows();
    const bad = [
      'from=yesterday',
      'from=2026-13-01',
      'from=2026-02-30',
      'to=2026-11-23T25:00:00Z',
      'to=2026-11-23T10:00:00',
      'from=2026-11-24&to=2026-11-23',
      'type=pickup',
      'type=PICKUP.SUCCEEDED',
      'type=door.opend',
      "type=door.opened'--",
      'compartment=0',
      'compartment=-3',
      'compartment=abc',
      'compartment=1.5',
      'dossier=H29%25',
      'dossier=a%20b',
      `dossier=${'x'.repeat(65)}`,
      'actor=staff:',
      'actor=someone',
      'actor=staff:mai%20x',
      'order=sideways',
      'before=-1',
      'count=maybe',
      'colour=red',
    ];
    for (const q of bad) {
      const r = await t.api('GET', `/api/v1/audit?${q}`, undefined, auditor);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('invalid_request');
      expect(r.body.message, q).toBeTruthy();
      const csv = await t.api('GET', `/api/v1/audit.csv?${q.replace(/^(order|before|count)=.*/, 'colour=red')}`, undefined, auditor);
      expect(csv.status, `csv ${q}`).toBe(400);
    }
    expect(rows()).toEqual(before);
  });
});
