// The staff console's repairs and alarm handling in headless Chromium: an alarm acknowledged on one
// console disappears from another at once (and after a reload, from the server); a dossier found by
// phone shows its locked code and gets a new one; a phone number is corrected and revealed with a reason.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { LIFETIME_FAILURES } from '../../server/domain/dossier-rules.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { DESK, launch, openPage, type Watched } from './browser.ts';
import { logInOnPage, waitLive } from './pages.ts';

const alarm = (page: Page, type: string) => page.locator(`#alarm-list li[data-type="${type}"]`);

/** Answers the page's prompts in turn with these values. */
function answerPrompts(page: Page, answers: string[]) {
  const queue = [...answers];
  page.on('dialog', (d) => {
    const next = queue.shift();
    if (next === undefined) return d.dismiss();
    return d.accept(next);
  });
}

describe('staff console: repairs and alarms', () => {
  let browser: Browser;
  let t: TestLocker | null = null;
  const watched: Watched[] = [];

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const w of watched) expect(w.problems).toEqual([]);
    for (const w of watched.splice(0)) await w.context.close();
    await t?.stop();
    t = null;
  });

  async function consoleFor(username: string, role: 'staff' | 'admin' = 'staff') {
    const w = await openPage(browser, t!.url, DESK);
    watched.push(w);
    await logInOnPage(t!, w.page, '/staff', role, username);
    await waitLive(w.page);
    return w.page;
  }

  it('marks an alarm as handled on every open console when one clerk acknowledges it, with a note, on the server', async () => {
    t = await startLocker();
    const a = await consoleFor('clerk');
    const b = await consoleFor('boss', 'admin');
    t.sim.setDoor(5, true);
    await expect.poll(() => alarm(a, 'door.forced_open').count()).toBe(1);
    await expect.poll(() => alarm(b, 'door.forced_open').count()).toBe(1);
    await alarm(a, 'door.forced_open').getByRole('textbox').fill('cleaner had the key');
    await alarm(a, 'door.forced_open').getByRole('button', { name: 'Đã xem' }).click();
    await expect.poll(() => alarm(a, 'door.forced_open').count()).toBe(0);
    await expect.poll(() => alarm(b, 'door.forced_open').count()).toBe(0);
    const token = await t.login('staff', 'clerk');
    const all = (await t.api('GET', '/api/v1/alarms', undefined, token)).body.alarms;
    expect(all[0]).toMatchObject({ type: 'door.forced_open', ack: { by: 'staff:clerk', note: 'cleaner had the key' } });
    // A console opened afterwards, in another browser, does not show it either.
    const c = await consoleFor('third');
    expect(await c.locator('#calm').isVisible()).toBe(true);
    expect(await alarm(c, 'door.forced_open').count()).toBe(0);
  });

  it('finds a dossier by phone, shows its locked code and reached cap, and issues a new code', async () => {
    t = await startLocker();
    const token = await t.login('staff', 'clerk');
    await loadDossier(t, token, 'LOCK-1', '0912000666');
    t.locker.ctx.store.db.prepare(`UPDATE dossiers SET failures = ?, code_fail_limit = ? WHERE code = 'LOCK-1'`).run(LIFETIME_FAILURES, LIFETIME_FAILURES);
    const page = await consoleFor('clerk');
    await page.locator('#find-code').fill('0912 000 666');
    await page.getByRole('button', { name: 'Tìm', exact: true }).click();
    const found = page.locator('#found');
    await expect.poll(() => found.locator('[data-flag="codeLocked"]').textContent()).toBe('Mã đã bị khóa');
    expect(await found.locator('[data-flag="lifetimeCapReached"]').textContent()).toBe('Đã hết lượt tự xin mã');
    expect(await page.locator('#found-phone').textContent()).toBe('09******66');
    await found.getByRole('button', { name: 'Cấp mã mới' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toBe('Đã gửi mã mới cho hồ sơ LOCK-1. Mã cũ không dùng được nữa.');
    await expect.poll(() => found.locator('[data-flag="codeLocked"]').count()).toBe(0);
    await t.locker.sms.drain();
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912000666', code: t.codeFor('0912000666') })).status).toBe(200);
    const lookups = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'dossier.lookup');
    expect(lookups.map((e) => e.data)).toEqual([{ by: 'phone', phone: '09******66', found: 1 }]);
  });

  it('corrects and reveals the phone number, each with a reason, in English too', async () => {
    t = await startLocker();
    const token = await t.login('staff', 'clerk');
    await loadDossier(t, token, 'FIX-1', '0912000777');
    const page = await consoleFor('clerk');
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator('#find-code').fill('FIX-1');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    const found = page.locator('#found');
    answerPrompts(page, ['0987 000 888', 'typed at the counter', 'call about the deadline']);
    await found.getByRole('button', { name: 'Correct the phone number' }).click();
    await expect.poll(() => page.locator('#found-note').textContent()).toBe('The phone number of dossier FIX-1 was corrected.');
    await expect.poll(() => page.locator('#found-phone').textContent()).toBe('09******88');
    await found.getByRole('button', { name: 'Show the full number' }).click();
    await expect.poll(() => page.locator('#found-phone').textContent()).toBe('0987000888');
    await t.locker.sms.drain();
    expect(t.sms().map((m) => m.to)).toEqual(['0912000777', '0987000888']);
    const events = t.locker.ctx.audit.list(0, 1000).events;
    expect(events.find((e) => e.type === 'dossier.phone_corrected')!.data).toMatchObject({ reason: 'typed at the counter', to: '09******88' });
    expect(events.find((e) => e.type === 'dossier.phone_revealed')!.data).toEqual({ reason: 'call about the deadline' });
  });

  it('finishes a withdraw nobody opened in time from the door details: unlock again, then release once checked', async () => {
    t = await startLocker();
    const token = await t.login('staff', 'clerk');
    const n = await loadDossier(t, token, 'LATE-1', '0912000555');
    await t.api('POST', '/api/v1/dossiers/LATE-1/withdraw', undefined, token);
    t.clock.advance(60_000); // the withdraw's window has passed, nobody opened
    const page = await consoleFor('clerk');
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator(`#grid [data-number="${n}"]`).click();
    const details = page.locator('#cell-details');
    answerPrompts(page, ['the clerk was called away', 'looked inside: empty']);
    const pulses = () => t!.sim.relayLog.filter((r) => r.energised && r.compartment === n).length;
    const before = pulses();
    await details.getByRole('button', { name: 'Unlock again' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toBe(`Door ${n} is unlocked: open it now.`);
    expect(pulses()).toBe(before + 1);
    await details.getByRole('button', { name: 'Checked: it is empty' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toBe(`Door ${n} is empty and free again.`);
    const grid = (await t.api('GET', '/api/v1/compartments', undefined, token)).body.compartments;
    expect(grid.find((c: { number: number }) => c.number === n).status).toBe('free');
    const events = t.locker.ctx.audit.list(0, 1000).events;
    expect(events.filter((e) => e.type === 'door.unlocked').at(-1)!.data).toEqual({ reason: 'the clerk was called away', purpose: 'staff' });
    expect(events.find((e) => e.type === 'compartment.released')!).toMatchObject({ actor: 'staff:clerk', data: { reason: 'looked inside: empty', from: 'withdrawn' } });
  });
});
