// The auditors' page in a real browser (Debian's Chromium through playwright-core): log in, see
// the lockers, verify one, find a dossier's pickup, export the CSV; nothing loaded from elsewhere,
// no serious accessibility violation.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { DESK, launch, openPage, screenshot, seriousViolations } from '../web/browser.ts';
import { freshDb, startCentral, type DbPlace, type TestCentral } from './helpers.ts';
import { makeTrail, wire } from './trail.ts';

describe('the auditors\' page', () => {
  let broker: TestBroker;
  let place: DbPlace;
  let c: TestCentral;
  let browser: Browser;
  const north = makeTrail(12, 'N');
  const south = makeTrail(9, 'S');

  beforeAll(async () => {
    broker = await startBroker();
    place = freshDb('sqlite');
    c = await startCentral({ db: place, brokerUrl: broker.url });
    for (const e of north) await c.central.ctx.ingest.event('lk-north', wire(e, 'lk-north'));
    for (const e of south.map((e) => (e.seq === 6 ? { ...e, dossier: 'S-X' } : e))) await c.central.ctx.ingest.event('lk-south', wire(e, 'lk-south'));
    await c.central.ctx.auth.addUser('mai', 'admin', 'mai has a long password');
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
    await place?.drop();
    await broker?.close();
  });

  it('logs in, shows the lockers, verifies one, finds a pickup and exports the CSV', async () => {
    const { page, problems } = await openPage(browser, c.url, DESK, 'en-GB');
    await page.goto('/');
    await page.getByLabel('Username').fill('mai');
    await page.getByLabel('Password').fill('mai has a long password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const rows = page.locator('#lockers-body tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).innerText()).toMatch(/lk-north[\s\S]*verified/);
    expect(await rows.nth(1).innerText()).toMatch(/lk-south[\s\S]*NOT verified/);

    await page.getByRole('button', { name: 'Verify the trail of lk-south' }).click();
    await expect.poll(() => page.locator('#verify-result').innerText()).toMatch(/TRAIL NOT INTACT.*Broken at seq: 6/);
    expect(await page.locator('#alarms-body').innerText()).toMatch(/lk-south\s+broken\s+6/);

    await page.getByLabel('Dossier code').fill('N-6');
    await page.getByRole('button', { name: 'Search' }).click();
    const found = page.locator('#pickups-body tr');
    await expect.poll(() => found.count()).toBe(1);
    expect(await found.innerText()).toMatch(/lk-north\s+7\s+N-6\s+6\s+yes/);

    await page.getByLabel('Dossier code').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => found.count()).toBe(7);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toBe('locker,dossier,compartment,at,eventId,seq,verified');
    expect(csv).toHaveLength(8);
    expect(csv.filter((l) => l.endsWith(',false'))).toHaveLength(1);

    await screenshot(page, 'central');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
