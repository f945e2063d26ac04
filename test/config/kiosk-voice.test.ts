// The kiosk's voice settings: on by default at 80 %, off or quieter by configuration, and a
// start-up refusal naming the setting for anything else.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';

describe('kiosk voice settings', () => {
  it('speaks at 80 % from server/dist/voice unless configured otherwise', () => {
    const c = loadConfig({});
    expect(c.kiosk).toEqual({ voice: true, volume: 80, voiceDir: join(process.cwd(), 'server', 'dist', 'voice') });
    const d = loadConfig({ LOCKER_KIOSK_VOICE: 'off', LOCKER_KIOSK_VOLUME: '0', LOCKER_KIOSK_VOICE_DIR: '/srv/voice' });
    expect(d.kiosk).toEqual({ voice: false, volume: 0, voiceDir: '/srv/voice' });
  });

  it.each([
    ['LOCKER_KIOSK_VOLUME', '101', /LOCKER_KIOSK_VOLUME: must be between 0 and 100, got 101/],
    ['LOCKER_KIOSK_VOLUME', 'loud', /LOCKER_KIOSK_VOLUME: must be a whole number/],
    ['LOCKER_KIOSK_VOLUME', '-5', /LOCKER_KIOSK_VOLUME: must be between 0 and 100/],
    ['LOCKER_KIOSK_VOICE', 'yes', /LOCKER_KIOSK_VOICE: must be one of on, off, got "yes"/],
  ])('refuses %s=%s, naming the setting', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(message);
  });
});
