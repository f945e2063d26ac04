// LOCKER_TIMEZONE: the office's wall clock for audit times, checked at start.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/load.ts';
import { localDateTime, localDayStart } from '../../server/web/lib/local-time.js';

describe('the office time zone', () => {
  it('is Asia/Ho_Chi_Minh unless set', () => {
    expect(loadConfig({}).timeZone).toBe('Asia/Ho_Chi_Minh');
    expect(loadConfig({ LOCKER_TIMEZONE: 'UTC' }).timeZone).toBe('UTC');
  });

  it('refuses an unknown zone at start, naming LOCKER_TIMEZONE', () => {
    for (const zone of ['Asia/Hanoi_City', 'GMT+7 please', 'Mars/Olympus']) {
      let err: unknown;
      try {
        loadConfig({ LOCKER_TIMEZONE: zone });
      } catch (e) {
        err = e;
      }
      expect(err, zone).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('LOCKER_TIMEZONE');
      expect((err as Error).message).toContain(zone);
    }
  });

  it('turns instants into wall-clock time and local days into instants, across a daylight-saving change', () => {
    expect(localDateTime('2026-12-03T17:05:09.000Z', 'Asia/Ho_Chi_Minh')).toBe('2026-12-04 00:05:09');
    expect(new Date(localDayStart('2026-12-04', 'Asia/Ho_Chi_Minh')!).toISOString()).toBe('2026-12-03T17:00:00.000Z');
    // Berlin moves from +01:00 to +02:00 on 2026-03-29: that day starts at +01:00, the next at +02:00.
    expect(new Date(localDayStart('2026-03-29', 'Europe/Berlin')!).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(localDayStart('2026-03-30', 'Europe/Berlin')!).toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(localDayStart('2026-02-30', 'UTC')).toBeNull();
  });
});
