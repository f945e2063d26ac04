// Steps people take on the pages, shared by the browser tests.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestLocker } from '../helpers/locker.ts';

/** Creates the account (through the helper) and logs in on the page's own form. */
export async function logInOnPage(t: TestLocker, page: Page, path: '/staff' | '/audit', role: 'staff' | 'auditor' | 'admin', username: string) {
  await t.login(role, username);
  await page.goto(path);
  await page.waitForSelector('body[data-ready]');
  await page.locator('#username').fill(username);
  await page.locator('input[type=password]').fill(`pw-${username}-long`);
  await page.locator('#login-form button[type=submit]').click();
}

/** Types on the kiosk's on-screen keypad. */
export async function tapDigits(page: Page, digits: string) {
  for (const d of digits) await page.getByRole('button', { name: d, exact: true }).click();
}

export async function openKiosk(page: Page) {
  await page.goto('/');
  await page.waitForSelector('body[data-ready]');
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('phone');
}

/** Resolves once the staff console's live stream is connected. */
export async function waitLive(page: Page) {
  await page.waitForSelector('body[data-live="live"]');
}
