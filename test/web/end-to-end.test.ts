// The whole story in a real browser: a clerk loads a dossier in the staff console, the citizen
// reads the code from the SMS file and collects it on the kiosk, the door shows open, closes in
// the simulator, and the auditor sees every step.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { DESK, KIOSK, launch, openPage, screenshot, type Watched } from './browser.ts';
import { logInOnPage, openKiosk, tapDigits, waitLive } from './pages.ts';

const DOSSIER = 'H29.12-251123-0001';
const PHONE = '0912345678';

describe('a dossier from the clerk to the citizen, through the pages', () => {
  let t: TestLocker;
  let browser: Browser;
  let staff: Watched;
  let kiosk: Watched;
  let sim: Watched;
  let audit: Watched;

  beforeAll(async () => {
    t = await startLocker();
    browser = await launch();
    staff = await openPage(browser, t.url, DESK);
    kiosk = await openPage(browser, t.url, KIOSK);
    sim = await openPage(browser, t.url, DESK);
    audit = await openPage(browser, t.url, DESK);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('loads, collects, closes and audits one dossier', async () => {
    // The clerk logs in and scans the dossier's barcode: the scanner's Enter moves to the phone field.
    const s = staff.page;
    await logInOnPage(t, s, '/staff', 'staff', 'clerk');
    await waitLive(s);
    await s.locator('#reg-code').click();
    await s.keyboard.type(DOSSIER, { delay: 5 });
    await s.keyboard.press('Enter');
    expect(await s.evaluate(() => document.activeElement?.id)).toBe('reg-phone');
    await s.keyboard.type(PHONE);
    await s.getByRole('button', { name: 'Đăng ký và mở ngăn' }).click();
    const note = s.locator('#register-note');
    await expect.poll(() => note.textContent()).toMatch(/^Ngăn \d+ đã mở khóa cho hồ sơ H29\.12-251123-0001/);
    const door = Number(/Ngăn (\d+)/.exec((await note.textContent())!)![1]);
    const cell = s.locator(`#grid [data-number="${door}"]`);
    await expect.poll(() => cell.getAttribute('data-status')).toBe('loading');
    await screenshot(s, 'e2e-staff-registered');

    // In the simulator the released latch shows; the clerk opens the door, puts the file in, shuts it.
    const p = sim.page;
    await p.goto('/sim');
    await p.waitForSelector('body[data-ready]');
    const simDoor = p.locator(`#bank [data-number="${door}"]`);
    await expect.poll(() => simDoor.getAttribute('data-unlocked')).toBe('true');
    await simDoor.click();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('open');
    await expect.poll(() => cell.textContent()).toContain('Cửa mở');
    await simDoor.click();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('closed');

    // Shutting the door confirmed it (auto-confirm, the default): the pickup code goes out by SMS.
    await expect.poll(() => note.textContent()).toContain('đã sẵn sàng ở ngăn');
    await expect.poll(() => s.locator(`#ready-body tr[data-code="${DOSSIER}"]`).count()).toBe(1);
    await t.locker.sms.drain();
    const code = t.codeFor(PHONE);

    // The citizen: phone on the on-screen keypad, code on the keyboard (submits after six digits).
    const k = kiosk.page;
    await openKiosk(k);
    await tapDigits(k, PHONE);
    await k.getByRole('button', { name: 'OK', exact: true }).click();
    await expect.poll(() => k.evaluate(() => document.body.dataset.step)).toBe('code');
    await k.keyboard.type(code);
    await expect.poll(() => k.evaluate(() => document.body.dataset.step)).toBe('result');
    const title = (await k.locator('#result-title').textContent())!.replace(/\s+/g, ' ').trim();
    expect(title).toBe(`Cửa ngăn số ${door} đã mở`);
    expect(await k.locator('#bank .door.mine').textContent()).toBe(String(door));
    expect(await k.locator('#bank .door.mine').count()).toBe(1);
    expect(await k.evaluate(() => document.body.dataset.cue)).toBe('success');
    await screenshot(k, 'e2e-kiosk-result');

    // The door opens (the citizen pulls it): the staff grid shows it live; the simulator closes it.
    await simDoor.click();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('open');
    await screenshot(s, 'e2e-staff-door-open');
    await simDoor.click();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('closed');
    await expect.poll(() => cell.getAttribute('data-status')).toBe('free');
    await expect.poll(() => s.locator(`#ready-body tr[data-code="${DOSSIER}"]`).count()).toBe(0);

    // The auditor finds every step of this dossier, verifies the chain and exports it.
    const a = audit.page;
    await logInOnPage(t, a, '/audit', 'auditor', 'inspector');
    await a.waitForSelector('#events-body tr');
    await a.locator('#f-dossier').fill(DOSSIER);
    await a.locator('#f-order').selectOption('asc');
    await a.getByRole('button', { name: 'Lọc', exact: true }).click();
    const types = async () => a.locator('#events-body tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.type));
    await expect.poll(types).toEqual(expect.arrayContaining(['dossier.loading', 'door.unlocked', 'door.opened', 'door.closed', 'dossier.ready', 'sms.sent', 'pickup.succeeded']));
    const seen = await types();
    expect(seen.indexOf('pickup.succeeded')).toBeLessThan(seen.lastIndexOf('door.closed'));
    const pickupRow = a.locator('#events-body tr[data-type="pickup.succeeded"]');
    expect(await pickupRow.locator('.sentence').textContent()).toBe(`Công dân nhận hồ sơ ${DOSSIER} tại ngăn ${door}`);

    await a.getByRole('button', { name: 'Kiểm tra chuỗi' }).click();
    await expect.poll(() => a.locator('#verify-result').getAttribute('data-ok')).toBe('true');
    expect(await a.locator('#verify-result').textContent()).toContain('Chuỗi toàn vẹn');

    const [download] = await Promise.all([a.waitForEvent('download'), a.getByRole('button', { name: 'Xuất CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('seq,id,at,localTime,timeZone,type,description,actor,compartment,dossier,data,prevHash,hash');
    expect(lines.slice(1).every((l) => l.includes(DOSSIER))).toBe(true);
    expect(csv).toContain(`,pickup.succeeded,Công dân nhận hồ sơ ${DOSSIER} tại ngăn ${door},citizen,${door},`);
    expect(csv).not.toContain(PHONE);
    expect(csv).not.toContain(code);
    await screenshot(a, 'e2e-audit-filtered');

    for (const w of [staff, kiosk, sim, audit]) expect(w.problems).toEqual([]);
  });
});
