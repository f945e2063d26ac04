// The auditor view in Chromium against a long trail: what the first screen costs to download,
// the filters applied by the locker, sentences in the page's language, times in the office's
// zone whatever the browser's, and the CSV export from the server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { seedAuditEvents } from '../helpers/seed.ts';
import { localDateTime } from '../../server/web/lib/local-time.js';
import { DESK, launch, openPage, screenshot, type Watched } from './browser.ts';
import { logInOnPage } from './pages.ts';

const EVENTS = 20_000;

/** Bytes the page received over the network (headers and bodies, as sent), counted by Chromium. */
async function countBytes(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const seen = { bytes: 0, requests: [] as string[] };
  const urls = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', (e: any) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e: any) => {
    seen.bytes += e.encodedDataLength;
    seen.requests.push(urls.get(e.requestId) ?? '?');
  });
  return seen;
}

describe('the auditor view at 20,000 events', () => {
  let t: TestLocker;
  let browser: Browser;

  beforeAll(async () => {
    t = await startLocker();
    seedAuditEvents(t, EVENTS);
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function open(opts: { timezoneId?: string } = {}): Promise<Watched> {
    if (!opts.timezoneId) return openPage(browser, t.url, DESK);
    const context = await browser.newContext({ viewport: DESK, locale: 'vi-VN', baseURL: t.url, acceptDownloads: true, timezoneId: opts.timezoneId });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return { context, page, problems };
  }

  it('downloads at most 1 MB for the first screen after login', async () => {
    const w = await open();
    const seen = await countBytes(w.page);
    await logInOnPage(t, w.page, '/audit', 'auditor', 'inspector');
    const started = Date.now();
    await w.page.locator('#events-body tr').first().waitFor();
    await expect.poll(() => w.page.evaluate(() => document.body.dataset.loading ?? 'done')).toBe('done');
    const ms = Date.now() - started;
    expect(await w.page.locator('#events-body tr').count()).toBe(100);
    expect(await w.page.locator('#count').textContent()).toMatch(/^Hiện 100 trong 20\.0\d\d sự kiện phù hợp\.$/);
    expect(seen.bytes, seen.requests.join('\n')).toBeLessThanOrEqual(1024 * 1024);
    console.log(`auditor view, first screen at ${EVENTS} events: ${Math.round(seen.bytes / 1024)} KB (page and data), trail shown ${ms} ms after the login click`);
    await screenshot(w.page, 'audit-20000-events');
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('filters on the locker and shows each event as a sentence with labelled fields', async () => {
    const w = await open();
    const page = w.page;
    await logInOnPage(t, page, '/audit', 'auditor', 'inspector');
    await page.locator('#events-body tr').first().waitFor();
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/audit?')) asked.push(new URL(r.url()).search);
    });
    await page.locator('#f-type').selectOption('pickup.succeeded');
    await page.locator('#f-compartment').fill('7');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await expect.poll(() => page.locator('#events-body tr[data-type="pickup.succeeded"]').count()).toBeGreaterThan(0);
    expect(asked.at(-1)).toContain('type=pickup.succeeded');
    expect(asked.at(-1)).toContain('compartment=7');
    const rows = page.locator('#events-body tr');
    expect(await rows.evaluateAll((rs) => rs.every((r) => (r as HTMLElement).dataset.type === 'pickup.succeeded'))).toBe(true);
    const sentence = await rows.first().locator('.sentence').textContent();
    expect(sentence).toMatch(/^Công dân nhận hồ sơ H29\.12-251203-\d{5} tại ngăn 7$/);
    expect(await rows.first().locator('.kind').textContent()).toBe('Nhận hồ sơ');
    expect(await page.locator('#count').textContent()).toMatch(/trong \d{2,3} sự kiện phù hợp/);

    // Labelled fields, not JSON.
    await page.locator('#f-type').selectOption('sms.sent');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await expect.poll(() => page.locator('#events-body tr[data-type="sms.sent"]').count()).toBeGreaterThan(0);
    const fields = page.locator('#events-body tr').first().locator('dl.fields');
    expect(await fields.locator('dt').allTextContents()).toEqual(['Đến', 'Kênh', 'Loại tin', 'Lần gửi']);
    expect(await fields.locator('dd').allTextContents()).toEqual(['09******78', 'file', 'mã nhận', '1']);
    expect(await page.locator('#events-body').textContent()).not.toContain('{');

    // English: the same events, read again in English without another download.
    const before = asked.length;
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#events-body tr').first().locator('.sentence').textContent()).toMatch(/^The system sent a message for dossier H29\.12-251203-\d{5} to 09\*{6}78$/);
    expect(await fields.locator('dt').allTextContents()).toEqual(['To', 'Channel', 'Message', 'Attempt']);
    expect(asked.length).toBe(before);

    // A wrong value is explained in the page's language and nothing is asked of the locker.
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
    await page.locator('#f-dossier').fill('H29 12');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    expect(await page.locator('#filter-note').textContent()).toBe('Mã hồ sơ chỉ gồm chữ, số và các dấu . - _ (tối đa 64 ký tự).');
    expect(asked.length).toBe(before);
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it("shows the office's time (LOCKER_TIMEZONE), not the browser's, and the CSV says the same", async () => {
    const w = await open({ timezoneId: 'America/New_York' });
    const page = w.page;
    await logInOnPage(t, page, '/audit', 'auditor', 'inspector');
    await page.locator('#events-body tr').first().waitFor();
    await page.locator('#f-type').selectOption('dossier.loading');
    await page.locator('#f-compartment').fill('3');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await expect.poll(() => page.locator('#events-body tr[data-type="dossier.loading"]').count()).toBeGreaterThan(1);
    const first = page.locator('#events-body tr').first();
    const iso = (await first.locator('td.when').getAttribute('title'))!;
    const local = localDateTime(iso, 'Asia/Ho_Chi_Minh');
    const vn = `${local.slice(8, 10)}/${local.slice(5, 7)}/${local.slice(0, 4)} ${local.slice(11)}`;
    expect(await first.locator('td.when').textContent()).toBe(vn);
    expect(await page.locator('#col-at').textContent()).toBe('Thời gian (Asia/Ho_Chi_Minh)');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Xuất CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('seq,id,at,localTime,timeZone,type,description,actor,compartment,dossier,data,prevHash,hash');
    expect(lines.length - 1).toBe(Number(/trong ([\d.]+) sự kiện/.exec((await page.locator('#count').textContent())!)![1].replace(/\./g, '')));
    const row = lines.find((l) => l.includes(`,${iso},`))!;
    expect(row).toContain(`,${iso},${local},Asia/Ho_Chi_Minh,dossier.loading,Cán bộ clerk đăng ký hồ sơ `);
    expect(lines.slice(1).every((l) => l.includes(',dossier.loading,') && l.includes(',staff:clerk,3,'))).toBe(true);
    expect(download.suggestedFilename()).toMatch(/^audit-[0-9-]+\.csv$/);
    expect(w.problems).toEqual([]);
    await w.context.close();
  });
});
