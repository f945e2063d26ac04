// Data retention: a configurable time after a dossier is closed, its phone number and code hash
// are erased, the purge is audited, and the audit chain still verifies.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { writeFigures } from './lib/figures.ts';

const DAY = 86_400_000;
let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

const row = (code: string) => t!.locker.ctx.store.db.prepare('SELECT phone, code_hash, otp_nonce, status FROM dossiers WHERE code = ?').get(code) as {
  phone: string;
  code_hash: string | null;
  otp_nonce: string;
  status: string;
};

/** Every text value in every table, for "is this number still anywhere?". */
function everyText(): string {
  const db = t!.locker.ctx.store.db;
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[];
  return tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
}

describe('data retention', () => {
  it('erases the phone number and code hash 30 days after a dossier is closed, audits it, and the chain still verifies', async () => {
    const started = Date.now();
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080' } });
    const staff = await t.login('staff');
    const collected = '0911000001';
    const withdrawn = '0911000002';
    const waiting = '0911000003';
    const stillInside = '0911000004';
    const a = await loadDossier(t, staff, 'RT-A', collected);
    const b = await loadDossier(t, staff, 'RT-B', withdrawn);
    await loadDossier(t, staff, 'RT-C', waiting);
    await loadDossier(t, staff, 'RT-D', stillInside);

    // A collected (door opened and shut), B withdrawn (same), C waiting, D collected but its door never opened.
    expect((await t.api('POST', '/api/v1/pickups', { phone: collected, code: t.codeFor(collected) })).status).toBe(200);
    t.sim.setDoor(a, true);
    t.sim.setDoor(a, false);
    expect((await t.api('POST', '/api/v1/dossiers/RT-B/withdraw', undefined, staff)).status).toBe(200);
    t.sim.setDoor(b, true);
    t.sim.setDoor(b, false);
    expect((await t.api('POST', '/api/v1/pickups', { phone: stillInside, code: t.codeFor(stillInside) })).status).toBe(200);
    const seq = t.locker.ctx.audit.latestSeq();

    t.clock.advance(30 * DAY - 1);
    expect(t.locker.runRetention()).toBe(0);
    expect(row('RT-A').phone).toBe(collected);

    t.clock.advance(1);
    expect(t.locker.runRetention()).toBe(2);
    for (const code of ['RT-A', 'RT-B']) expect(row(code)).toMatchObject({ phone: '', code_hash: null, otp_nonce: '' });
    // Still in the locker (waiting, or its door never opened): kept, whatever its age.
    expect(row('RT-C').phone).toBe(waiting);
    expect(row('RT-D').phone).toBe(stillInside);
    const text = everyText();
    expect(text).not.toContain(collected.slice(1));
    expect(text).not.toContain(withdrawn.slice(1));

    // The purge is in the trail, one event per dossier, naming it and its compartment; nothing before it changed.
    const purged = () => t!.locker.ctx.audit.list(seq, 100).events.filter((e) => !e.type.startsWith('login.'));
    const events = purged();
    expect(events.map((e) => [e.type, e.dossier, e.compartment, e.actor])).toEqual([
      ['dossier.data_purged', 'RT-A', a, 'system'],
      ['dossier.data_purged', 'RT-B', b, 'system'],
    ]);
    expect(events[0].data).toMatchObject({ retentionDays: 30, fields: ['phone', 'codeHash', 'codeNonce'] });
    const verify = await t.api('GET', '/api/v1/audit/verify', undefined, await t.login('auditor'));
    expect(verify.body).toMatchObject({ ok: true, count: t.locker.ctx.audit.latestSeq() });

    // The dossier itself still answers, with nothing personal left.
    const d = await t.api('GET', '/api/v1/dossiers/RT-A', undefined, await t.login('staff', 'staff2'));
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ code: 'RT-A', status: 'picked_up', phone: '' });

    // Once is enough.
    expect(t.locker.runRetention()).toBe(0);
    expect(purged().filter((e) => e.type !== 'user.created')).toHaveLength(2);

    // Nor do the database file and its WAL keep the erased numbers in free pages or old page images.
    const file = ['locker.db', 'locker.db-wal'].map((f) => (existsSync(join(t!.dataDir, f)) ? readFileSync(join(t!.dataDir, f)).toString('latin1') : '')).join('');
    expect(file).not.toContain(collected);
    expect(file).not.toContain(withdrawn);
    expect(file).toContain(waiting);

    writeFigures({
      suite: '8-retention',
      title: 'Data retention',
      summary: 'Dossiers collected, withdrawn, waiting and collected-but-never-opened; the clock moved to one millisecond before and after 30 days; the database searched for the numbers afterwards.',
      inputsTried: 4,
      faultsInjected: 0,
      doorsWronglyOpened: 0,
      eventsLost: 0,
      details: {
        'retention (default)': '30 days after closing (LOCKER_RETENTION_DAYS)',
        'purged at 30 days': '2 of 2 closed dossiers (phone, code hash, code nonce)',
        'kept': 'the waiting dossier and the one still in its compartment',
        'purge audited': 'one dossier.data_purged per dossier',
        'audit chain afterwards': 'verifies',
        'erased numbers left in the database file (after a checkpoint)': 0,
      },
      durationMs: Date.now() - started,
    });
  });

  it('takes its delay from LOCKER_RETENTION_DAYS and sweeps at start-up', async () => {
    const dataDir = tempDir();
    t = await startLocker({ dataDir, env: { LOCKER_RETENTION_DAYS: '0.5' } });
    const staff = await t.login('staff');
    const n = await loadDossier(t, staff, 'RT-E', '0911000005');
    expect((await t.api('POST', '/api/v1/dossiers/RT-E/withdraw', undefined, staff)).status).toBe(200);
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    t.clock.advance(12 * 3600_000 + 1);
    t = await t.restart();
    expect(row('RT-E')).toMatchObject({ phone: '', code_hash: null });
    expect(t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'dossier.data_purged').map((e) => e.dossier)).toEqual(['RT-E']);
  });

  it('refuses a negative or non-numeric retention, naming the setting', () => {
    for (const v of ['-1', 'thirty', '4000']) {
      expect(() => loadConfig({ LOCKER_RETENTION_DAYS: v })).toThrow(/LOCKER_RETENTION_DAYS/);
    }
    expect(loadConfig({}).retentionDays).toBe(30);
  });
});
