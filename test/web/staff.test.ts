// The staff console in headless Chromium: alarms and overdue dossiers at the top, live;
// disabling a compartment; resending and withdrawing; scanner input; both languages.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { SMS_BACKOFF_MS } from '../../server/sms/dispatcher.ts';
import { loadDossier, startLocker, type StartOptions, type TestLocker } from '../helpers/locker.ts';
import { DESK, launch, openPage, screenshot, type Watched } from './browser.ts';
import { logInOnPage, waitLive } from './pages.ts';

const alarm = (page: Page, type: string) => page.locator(`#alarm-list li[data-type="${type}"]`);
const cell = (page: Page, n: number) => page.locator(`#grid [data-number="${n}"]`);

describe('staff console', () => {
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
    w = await openPage(browser, t.url, DESK);
    await logInOnPage(t, w.page, '/staff', 'staff', 'clerk');
    await waitLive(w.page);
    return { t, page: w.page };
  }

  it('refuses a wrong password and an auditor account', async () => {
    t = await startLocker();
    w = await openPage(browser, t.url, DESK);
    const page = w.page;
    await t.login('staff', 'clerk');
    await page.goto('/staff');
    await page.locator('#username').fill('clerk');
    await page.locator('#password').fill('not-the-password');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.locator('#login-note').textContent()).toBe('Sai tên đăng nhập hoặc mật khẩu.');
    expect(await page.locator('#console').isHidden()).toBe(true);

    await logInOnPage(t, page, '/staff', 'auditor', 'inspector');
    await expect.poll(() => page.locator('#login-note').textContent()).toBe('Tài khoản này không dùng được bảng điều khiển nhân viên.');
    expect(await page.locator('#console').isHidden()).toBe(true);
  });

  it('puts a forced-open door at the top as it happens, with the door state, until someone has seen it', async () => {
    const { t, page } = await open();
    expect(await page.locator('#calm').isVisible()).toBe(true);
    t.sim.setDoor(5, true);
    await expect.poll(() => alarm(page, 'door.forced_open').count()).toBe(1);
    const item = alarm(page, 'door.forced_open');
    expect(await item.locator('.what').textContent()).toBe('Ngăn 5: cửa bị mở khi chưa mở khóa');
    expect(await item.textContent()).toContain('cửa đang mở');
    await expect.poll(() => cell(page, 5).getAttribute('data-door')).toBe('open');
    expect(await page.locator('#alerts').evaluate((el) => el.classList.contains('calm'))).toBe(false);
    await screenshot(page, 'staff-alarm');
    t.sim.setDoor(5, false);
    await expect.poll(() => item.textContent()).toContain('cửa đã đóng');

    await item.getByRole('button', { name: 'Đã xem' }).click();
    // The alarm leaves once the locker has answered the acknowledgement: a round trip, not at the click.
    await expect.poll(() => alarm(page, 'door.forced_open').count()).toBe(0);
    await expect.poll(() => page.locator('#calm').isVisible()).toBe(true);
    // Seen stays seen after a reload; the stream's snapshot still carries it.
    await page.reload();
    await waitLive(page);
    expect(await alarm(page, 'door.forced_open').count()).toBe(0);
  });

  it('shows an SMS that could not be sent as an alarm and in the list', async () => {
    const failing = { name: 'broken', send: async () => Promise.reject(new Error('gateway down')) };
    t = await startLocker({ overrides: { smsChannel: failing } });
    const token = await t.login('staff', 'clerk');
    const n = await loadDossier(t, token, 'SMS-FAIL-1', '0912000111');
    for (const wait of SMS_BACKOFF_MS) {
      t.clock.advance(wait + 1);
      await t.locker.sms.drain();
    }
    w = await openPage(browser, t.url, DESK);
    const page = w.page;
    await logInOnPage(t, page, '/staff', 'staff', 'clerk');
    await waitLive(page);
    await expect.poll(() => alarm(page, 'sms.failed').count()).toBe(1);
    expect(await alarm(page, 'sms.failed').locator('.what').textContent()).toBe(`Không gửi được SMS cho hồ sơ SMS-FAIL-1 (ngăn ${n})`);
    const row = page.locator('#ready-body tr[data-code="SMS-FAIL-1"]');
    expect(await row.locator('td').nth(3).textContent()).toBe('LỖI');
    expect(await row.locator('td').nth(2).textContent()).toBe('09******11');
  });

  it('lists overdue dossiers at the top and takes one back with a second press', async () => {
    const { t, page } = await open({ env: { LOCKER_PICKUP_DAYS: '0.01' } });
    const token = await t.login('staff', 'clerk');
    const n = await loadDossier(t, token, 'OLD-1', '0912000222');
    t.clock.advance(15 * 60_000);
    expect(t.locker.runExpiry()).toBe(1);
    const item = page.locator('#overdue-list li[data-code="OLD-1"]');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toContain(`OLD-1 – ngăn ${n} – hết hạn`);
    await screenshot(page, 'staff-overdue');

    const button = item.getByRole('button', { name: 'Rút hồ sơ' });
    await button.click();
    expect(await item.getByRole('button').textContent()).toBe('Bấm lần nữa để rút');
    const dossierBefore = await t.api('GET', '/api/v1/dossiers/OLD-1', undefined, token);
    expect(dossierBefore.body.status).toBe('expired');
    await item.getByRole('button', { name: 'Bấm lần nữa để rút' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toBe(`Hồ sơ OLD-1 đã rút. Ngăn ${n} đã mở khóa để lấy ra.`);
    await expect.poll(() => page.locator('#overdue-list li').count()).toBe(0);
    expect((await t.api('GET', '/api/v1/dossiers/OLD-1', undefined, token)).body.status).toBe('withdrawn');
  });

  it('takes a compartment out of service and puts it back, in English too', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    await cell(page, 7).click();
    await page.locator('#disable-reason').fill('hinge broken');
    await page.getByRole('button', { name: 'Tạm ngưng ngăn này' }).click();
    await expect.poll(() => cell(page, 7).getAttribute('data-status')).toBe('disabled');
    expect(await cell(page, 7).textContent()).toContain('Tạm ngưng');
    const list = await t.api('GET', '/api/v1/compartments', undefined, token);
    expect(list.body.compartments[6].status).toBe('disabled');

    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('h1').textContent()).toBe('Staff console');
    expect(await cell(page, 7).textContent()).toContain('Disabled');
    expect(await cell(page, 8).textContent()).toContain('Free');
    expect(await cell(page, 8).textContent()).toContain('Door closed');
    await screenshot(page, 'staff-en');
    await page.getByRole('button', { name: 'Put back in service' }).click();
    await expect.poll(() => cell(page, 7).getAttribute('data-status')).toBe('free');
    expect((await t.api('GET', '/api/v1/compartments', undefined, token)).body.compartments[6].status).toBe('free');
  });

  it('gives admins an Accounts panel to add, set a password, disable, enable and unblock accounts, and hides it from clerks', async () => {
    t = await startLocker();
    w = await openPage(browser, t.url, DESK);
    const page = w.page;
    await logInOnPage(t, page, '/staff', 'admin', 'mai');
    await waitLive(page);
    const panel = page.locator('#accounts');
    await expect.poll(() => panel.isVisible()).toBe(true);
    const row = (user: string) => page.locator(`#users-body tr[data-user="${user}"]`);
    // No disable button on one's own account.
    expect(await row('mai').locator('[data-action=disable]').count()).toBe(0);

    await page.locator('#new-username').fill('lan');
    await page.locator('#new-role').selectOption('staff');
    await page.locator('#new-password').fill('short');
    await page.getByRole('button', { name: 'Thêm', exact: true }).click();
    await expect.poll(() => page.locator('#accounts-note').textContent()).toBe('Mật khẩu có ít nhất 8 ký tự.');
    await page.locator('#new-password').fill('lan has a long password');
    await page.getByRole('button', { name: 'Thêm', exact: true }).click();
    await expect.poll(() => row('lan').getAttribute('data-state')).toBe('active');
    expect(await row('lan').textContent()).toContain('Nhân viên');
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'lan has a long password' })).status).toBe(200);

    await row('lan').locator('[data-action=password]').click();
    await page.locator('#set-password').fill('lan has a new password');
    await page.getByRole('button', { name: 'Lưu mật khẩu' }).click();
    await expect.poll(() => page.locator('#accounts-note').textContent()).toContain('Đã đặt mật khẩu mới cho lan');
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'lan has a new password' })).status).toBe(200);

    const disable = row('lan').locator('[data-action=disable]');
    await disable.click();
    await disable.click();
    await expect.poll(() => row('lan').getAttribute('data-state')).toBe('disabled');
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'lan has a new password' })).body.error).toBe('account_disabled');
    await row('lan').locator('[data-action=enable]').click();
    await expect.poll(() => row('lan').getAttribute('data-state')).toBe('active');

    for (let i = 0; i < 5; i++) await t.api('POST', '/api/v1/session', { username: 'lan', password: `wrong-${i}-password` });
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator('#new-username').fill('hoa');
    await page.locator('#new-role').selectOption('auditor');
    await page.locator('#new-password').fill('hoa has a long password');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => row('lan').getAttribute('data-state')).toBe('blocked');
    expect(await row('lan').locator('.user-state').textContent()).toMatch(/^Blocked until /);
    expect(await row('hoa').textContent()).toContain('Auditor');
    await screenshot(page, 'staff-accounts');
    await row('lan').getByRole('button', { name: 'Unblock' }).click();
    await expect.poll(() => row('lan').getAttribute('data-state')).toBe('active');
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'lan has a new password' })).status).toBe(200);
    const actors = t.locker.ctx.store.db.prepare("SELECT DISTINCT actor FROM audit_events WHERE type LIKE 'user.%' AND json_extract(data, '$.username') != 'mai'").all();
    expect(actors).toEqual([{ actor: 'staff:mai' }]);

    // A clerk sees no accounts panel.
    await page.getByRole('button', { name: 'Log out' }).click();
    await logInOnPage(t, page, '/staff', 'staff', 'clerk');
    await waitLive(page);
    expect(await panel.isHidden()).toBe(true);
  });

  it('resends a pickup code from the list of waiting dossiers', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    await loadDossier(t, token, 'WAIT-1', '0912000333');
    const first = t.codeFor('0912000333');
    const row = page.locator('#ready-body tr[data-code="WAIT-1"]');
    await expect.poll(() => row.count()).toBe(1);
    const before = t.sms().length;
    await row.getByRole('button', { name: 'Gửi lại SMS' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toBe('Đã gửi mã mới cho hồ sơ WAIT-1. Mã cũ không dùng được nữa.');
    await t.locker.sms.drain();
    expect(t.sms().length).toBe(before + 1);
    const second = t.codeFor('0912000333');
    expect(second).not.toBe(first);
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912000333', code: first })).status).toBe(401);
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912000333', code: second })).status).toBe(200);
  });

  it('takes a barcode scan even when nothing is focused, and says why a registration fails', async () => {
    const { t, page } = await open();
    const token = await t.login('staff', 'clerk');
    await loadDossier(t, token, 'DUP-1', '0912000444');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.type('DUP-1', { delay: 5 });
    await page.keyboard.press('Enter');
    expect(await page.locator('#reg-code').inputValue()).toBe('DUP-1');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reg-phone');

    await page.keyboard.type('12345');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#register-note').textContent()).toBe('Số điện thoại chưa đúng: 0xxxxxxxxx hoặc +84xxxxxxxxx.');
    await page.locator('#reg-phone').fill('0912 000 555');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#register-note').textContent()).toBe('Mã hồ sơ này đang ở trong tủ.');

    // The code field is ready for the next scan, which replaces the old code.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reg-code');
    await page.keyboard.type('NEW-2', { delay: 5 });
    await page.keyboard.press('Enter');
    expect(await page.locator('#reg-code').inputValue()).toBe('NEW-2');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reg-phone');
    expect(await page.locator('#loading-list li[data-code="NEW-2"]').count()).toBe(0); // Enter after a scan never registers
    await page.getByLabel('Lớn (L)').check();
    await page.getByRole('button', { name: 'Đăng ký và mở ngăn' }).click();
    await expect.poll(() => page.locator('#register-note').textContent()).toMatch(/^Ngăn \d+ đã mở khóa cho hồ sơ NEW-2/);
    const reg = await t.api('GET', '/api/v1/dossiers/NEW-2', undefined, token);
    expect(reg.body.size).toBe('L');
    await expect.poll(() => page.locator('#loading-list li[data-code="NEW-2"]').count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reg-code');
    // A click into the code field selects it all, so a scan after a click replaces it too.
    await page.locator('#reg-code').fill('LEFT-OVER');
    await page.locator('#reg-phone').click();
    await page.locator('#reg-code').click();
    await page.keyboard.type('SCAN-3', { delay: 5 });
    expect(await page.locator('#reg-code').inputValue()).toBe('SCAN-3');
  });
});
