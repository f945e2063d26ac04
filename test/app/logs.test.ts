import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

describe('logs', () => {
  it('carry no full phone number and no pickup code through a whole day of work', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    t = await startLocker({ overrides: { logger: pino({ level: 'trace' }, sink) } });
    const staff = await t.login('staff');
    const phone = '0987654321';
    await loadDossier(t, staff, 'LOG-1', '+84987654321');
    const code = t.codeFor(phone);
    await t.api('POST', '/api/v1/pickups', { phone, code: code === '111111' ? '222222' : '111111' });
    await t.api('POST', '/api/v1/pickups/resend', { phone });
    await t.api('POST', '/api/v1/pickups', { phone, code });
    await t.api('POST', '/api/v1/dossiers', { code: 'LOG-2', phone: 'not-a-phone', size: 'S' }, staff);
    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    for (const secret of [phone, '987654321', '+84987654321', code, 'pw-staff1-long']) expect(text).not.toContain(secret);
    expect(text).toContain('09******21');
  });
});
