import { afterEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../server/domain/audit-event.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

describe('the audit trail over HTTP', () => {
  it('pages through every event in seq order with no gaps, and the pages verify on their own', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    for (let i = 0; i < 5; i++) await loadDossier(t, staff, `P-${i}`, `091234567${i}`);
    const auditor = await t.login('auditor');
    const all = [];
    let after = 0;
    for (;;) {
      const page = await t.api('GET', `/api/v1/audit?after=${after}&limit=7`, undefined, auditor);
      expect(page.status).toBe(200);
      all.push(...page.body.events);
      if (page.body.next === null) break;
      expect(page.body.next).toBe(page.body.events.at(-1).seq);
      after = page.body.next;
    }
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(verifyChain(all)).toMatchObject({ ok: true, count: all.length });
    const v = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
    // No broker in this test: nothing is anchored yet, and every event waits for the central office.
    expect(v.body).toEqual({ ok: true, count: all.length, head: all.at(-1).hash, anchored: { seq: 0, hash: null, at: null }, unconfirmed: all.length });
  });

  it('never carries a full phone number or a pickup code', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'PII-1', '0912345678');
    const code = t.codeFor('0912345678');
    await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: '000000' === code ? '000001' : '000000' });
    await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    const auditor = await t.login('auditor');
    const text = JSON.stringify((await t.api('GET', '/api/v1/audit?limit=1000', undefined, auditor)).body);
    expect(text).not.toContain('0912345678');
    expect(text).not.toContain('912345678');
    expect(text).not.toContain(code);
    expect(text).toContain('09******78');
  });

  it('reports a tampered row as broken, naming it', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'T-1', '0912345678');
    t.locker.ctx.store.db.prepare(`UPDATE audit_events SET actor = 'staff:someone-else' WHERE type = 'dossier.loading'`).run();
    const auditor = await t.login('auditor');
    const v = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
    const seq = (t.locker.ctx.store.db.prepare(`SELECT seq FROM audit_events WHERE type = 'dossier.loading'`).get() as { seq: number }).seq;
    expect(v.body).toMatchObject({ ok: false, brokenAt: seq });
  });
});
