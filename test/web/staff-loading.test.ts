// Loading dossiers at the staff console on the screen clerks use (1366×768): the dossier being
// loaded, its door and its next step next to the form; every message inside the window without
// scrolling; batch loading where the door's closing confirms; the size choice back to the default;
// a larger compartment said; Vietnamese screens in Vietnamese only.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { startLocker, type StartOptions, type TestLocker } from '../helpers/locker.ts';
import { launch, openPage, screenshot, seriousViolations, type Watched } from './browser.ts';
import { logInOnPage, waitLive } from './pages.ts';

/** The office PCs' screen. */
const CLERK_SCREEN = { width: 1366, height: 768 };

/** The element is shown and lies wholly inside the window as it is now (no scrolling done). */
async function inViewport(el: Locator): Promise<boolean> {
  if (!(await el.isVisible())) return false;
  return el.evaluate((node) => {
    const r = node.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
  });
}

const scrollY = (page: Page) => page.evaluate(() => window.scrollY);

describe('staff console: loading at 1366×768', () => {
  let browser: Browser;
  let t: TestLocker | null = null;
  let w: Watched | null = null;

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    if (w) expect(w.problems).toEqual([]);
    await w?.context.close();
    await t?.stop();
    w = null;
    t = null;
  });

  async function open(opts: StartOptions = {}) {
    t = await startLocker(opts);
    w = await openPage(browser, t.url, CLERK_SCREEN);
    await logInOnPage(t, w.page, '/staff', 'staff', 'clerk');
    await waitLive(w.page);
    return { t, page: w.page };
  }

  /** Scans a code (the scanner ends with Enter), types the phone number and presses Enter: registers. */
  async function scanAndRegister(page: Page, code: string, phone: string) {
    await page.locator('#reg-code').focus();
    await page.keyboard.type(code, { delay: 2 });
    await page.keyboard.press('Enter');
    await page.keyboard.type(phone, { delay: 2 });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#current').getAttribute('data-code')).toBe(code);
    return Number((await page.locator('#current-door').textContent())!.replace(/\D/g, ''));
  }

  /** A person at the locker opens or shuts a door (the simulator's endpoint). */
  async function door(n: number, open: boolean) {
    const r = await t!.api('POST', `/api/v1/sim/compartments/${n}/door`, { open });
    expect(r.status).toBe(200);
  }

  it('shows the confirm button and each message inside the viewport at 1366×768 after Register', async () => {
    const { t, page } = await open({ env: { LOCKER_AUTO_CONFIRM: 'false' } });
    const token = await t.login('staff', 'clerk');
    const note = page.locator('#register-note');
    const card = page.locator('#current');
    const confirm = card.getByRole('button', { name: 'Xác nhận đã nạp' });

    const n = await scanAndRegister(page, 'H29.12-251123-0001', '0912000601');
    await expect.poll(() => note.textContent()).toBe(`Ngăn ${n} đã mở khóa cho hồ sơ H29.12-251123-0001. Cho hồ sơ vào, đóng cửa, rồi bấm “Xác nhận đã nạp”.`);
    await screenshot(page, 'staff-loading-registered');
    expect(await scrollY(page)).toBe(0);
    expect(await page.locator('#current-door').textContent()).toBe(`Ngăn ${n}`);
    expect(await inViewport(card)).toBe(true);
    expect(await inViewport(confirm)).toBe(true);
    expect(await inViewport(note)).toBe(true);
    expect(await card.getAttribute('data-step')).toBe('stepOpen');

    // Confirming with the door still open: door_open, said next to the button.
    await door(n, true);
    await expect.poll(() => card.getAttribute('data-step')).toBe('stepShut');
    await confirm.click();
    await expect.poll(() => note.textContent()).toBe('Cửa ngăn vẫn mở. Đóng cửa rồi bấm xác nhận lại.');
    expect(await inViewport(note)).toBe(true);

    // Shut, confirmed: the "unlocked, press Confirm" note is gone, the result stands in its place.
    await door(n, false);
    await expect.poll(() => card.getAttribute('data-step')).toBe('stepConfirm');
    await confirm.click();
    await expect.poll(() => note.textContent()).toBe(`Hồ sơ H29.12-251123-0001 đã sẵn sàng ở ngăn ${n}. Mã nhận đang được gửi bằng SMS.`);
    expect(await note.textContent()).not.toContain('đã mở khóa');
    expect(await inViewport(note)).toBe(true);
    expect(await card.getAttribute('data-status')).toBe('ready');
    expect(await card.getByRole('button').count()).toBe(0);
    expect((await t.api('GET', '/api/v1/dossiers/H29.12-251123-0001', undefined, token)).body).toMatchObject({ status: 'ready', confirmedBy: 'staff' });

    // Withdrawn from the card: said next to it.
    const m = await scanAndRegister(page, 'H29.12-251123-0002', '0912000602');
    await card.getByRole('button', { name: 'Rút hồ sơ' }).click();
    await card.getByRole('button', { name: 'Bấm lần nữa để rút' }).click();
    await expect.poll(() => note.textContent()).toBe(`Hồ sơ H29.12-251123-0002 đã rút. Ngăn ${m} đã mở khóa để lấy ra.`);
    expect(await inViewport(note)).toBe(true);

    // Resent from the list lower down, scrolled to: the message is pinned inside the window.
    const row = page.locator('#ready-body tr[data-code="H29.12-251123-0001"]');
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('button', { name: 'Gửi lại SMS' }).click();
    const toast = page.locator('#toast');
    await expect.poll(() => toast.textContent()).toBe('Đã gửi mã mới cho hồ sơ H29.12-251123-0001. Mã cũ không dùng được nữa.');
    expect(await inViewport(toast)).toBe(true);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    expect(await inViewport(toast)).toBe(true);
  });

  it('loads a batch: scan, the door opens, paper in, door shut, confirmed by itself, the next scan', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    const note = page.locator('#register-note');
    const card = page.locator('#current');
    const codes = ['BATCH-1', 'BATCH-2', 'BATCH-3'];
    for (const [i, code] of codes.entries()) {
      const n = await scanAndRegister(page, code, `091200070${i}`);
      expect(await note.textContent()).toBe(`Ngăn ${n} đã mở khóa cho hồ sơ ${code}. Cho hồ sơ vào rồi đóng cửa: hồ sơ tự được xác nhận.`);
      expect(await card.getAttribute('data-step')).toBe('stepOpenAuto');
      await door(n, true);
      await expect.poll(() => card.getAttribute('data-step')).toBe('stepShutAuto');
      if (i === 0) await screenshot(page, 'staff-loading-door-open');
      await door(n, false);
      await expect.poll(() => note.textContent()).toBe(
        `Xong: hồ sơ ${code} đã sẵn sàng ở ngăn ${n} (tự xác nhận khi đóng cửa). Mã nhận đang được gửi bằng SMS. Quét hồ sơ tiếp theo.`,
      );
      expect(await card.getAttribute('data-status')).toBe('ready');
      expect(await inViewport(note)).toBe(true);
      // Ready for the next scan without a click.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('reg-code');
      expect((await t.api('GET', `/api/v1/dossiers/${code}`, undefined, token)).body).toMatchObject({ status: 'ready', confirmedBy: 'door' });
    }
    await screenshot(page, 'staff-loading-batch');
    await t.locker.sms.drain();
    expect(t.sms().map((m) => m.to).sort()).toEqual(['0912000700', '0912000701', '0912000702']);
    expect(await page.locator('#loading-list li').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('puts the size back to the default after each dossier', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    await page.getByLabel('Lớn (L)').check();
    await scanAndRegister(page, 'SIZE-1', '0912000801');
    expect((await t.api('GET', '/api/v1/dossiers/SIZE-1', undefined, token)).body.size).toBe('L');
    expect(await page.getByLabel('Nhỏ (S)').isChecked()).toBe(true);
    expect(await page.getByLabel('Lớn (L)').isChecked()).toBe(false);
    await scanAndRegister(page, 'SIZE-2', '0912000802');
    expect((await t.api('GET', '/api/v1/dossiers/SIZE-2', undefined, token)).body.size).toBe('S');
  });

  it('says when a larger compartment than asked was used', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    const layout = await t.api('GET', '/api/v1/compartments', undefined, token);
    // Every S and M compartment out of service: an S dossier can only go into an L one.
    for (const c of layout.body.compartments) {
      if (c.size !== 'L') expect((await t.api('POST', `/api/v1/compartments/${c.number}/disable`, { reason: 'test' }, token)).status).toBe(200);
    }
    const size = page.locator('#current-size');
    const n = await scanAndRegister(page, 'BIG-1', '0912000901');
    await expect.poll(() => size.textContent()).toBe(`Không còn ngăn Nhỏ (S) trống: hồ sơ được đặt vào ngăn ${n}, cỡ Lớn (L).`);
    expect(await inViewport(size)).toBe(true);
    expect((await t.api('GET', '/api/v1/compartments', undefined, token)).body.compartments.find((c: any) => c.number === n).size).toBe('L');
    await screenshot(page, 'staff-loading-larger');

    // Asked for L and given L: nothing to say.
    await page.getByLabel('Lớn (L)').check();
    await scanAndRegister(page, 'BIG-2', '0912000902');
    expect(await size.isHidden()).toBe(true);
  });

  it("shows no English server message on the Vietnamese screen (a confirm another clerk's console beat)", async () => {
    const { t, page } = await open({ env: { LOCKER_AUTO_CONFIRM: 'false' } });
    const token = await t.login('staff', 'other');
    const n = await scanAndRegister(page, 'H29.12-251123-0004', '0912000603');
    await door(n, true);
    await door(n, false);
    const card = page.locator('#current');
    await expect.poll(() => card.getAttribute('data-step')).toBe('stepConfirm');
    // This console's confirm is held on its way while another clerk confirms the same dossier.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/v1/dossiers/*/loaded', async (route) => {
      await held;
      await route.continue();
    });
    const answered = page.waitForResponse('**/api/v1/dossiers/*/loaded');
    await card.getByRole('button', { name: 'Xác nhận đã nạp' }).click();
    expect((await t.api('POST', '/api/v1/dossiers/H29.12-251123-0004/loaded', undefined, token)).status).toBe(200);
    // The other clerk's confirm reaches this console by the stream first; then its own, late, answer.
    await expect.poll(() => card.getAttribute('data-status')).toBe('ready');
    release();
    const res = await answered;
    const body = await res.json();
    expect(res.status()).toBe(409);
    expect(body.error).toBe('invalid_state');
    const note = page.locator('#register-note');
    await expect.poll(() => note.textContent()).toContain('Hồ sơ không còn ở bước này');
    const text = (await note.textContent())!;
    expect(text).not.toContain(body.message);
    expect(text).not.toMatch(/\b(is|the|needs|Dossier|ready|loading)\b/);
    expect(await inViewport(note)).toBe(true);

    // In English the same note reads in English, from the page's table, not from the server.
    await page.getByRole('button', { name: 'English' }).click();
    expect(await note.textContent()).toBe('The dossier is no longer at this step (another screen may just have handled it). The lists have been refreshed.');
    expect(await card.getAttribute('data-status')).toBe('ready');
  });
});
