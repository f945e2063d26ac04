// Every citizen text fits ONE SMS in the encoding in use, carries the dossier tail and the hotline,
// and a template that would not is refused at start-up, named. Measured as the modem sends it
// (buildSubmitPdus) and with the longest values a text can get.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_MAP_PATH } from '../../locker-map/load.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { smsParts, smsUnits, toGsm7Text } from '../../server/sms/encoding.ts';
import { buildSubmitPdus } from '../../server/sms/pdu.ts';
import { DEFAULT_TEMPLATES, dossierTail, NO_TEMPLATES, renderSms, TEMPLATE_KEYS, TEMPLATE_NAMES, templateProblem, type TemplateName, type TextSettings } from '../../server/sms/templates.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { startArgs } from '../helpers/start-command.ts';

const ROOT = join(import.meta.dirname, '../..');
const SIX = /(?<!\d)\d{6}(?!\d)/g;
const PHONE = '0912345678';
const HOTLINE = '024 3825 3536';
// The longest hotline and hours the office might set that still leave every default text one SMS.
const LONG_OFFICE = { hotline: '0243 8253 536 (máy lẻ 12)', hours: '7:30-11:30, 13:30-17:00 T2-T6' };

function settings(encoding: 'gsm7' | 'ucs2', office: TextSettings['office'] = { hotline: HOTLINE, hours: '7:30-17:00 T2-T6' }): TextSettings {
  return { encoding, templates: NO_TEMPLATES, location: 'Bộ phận Một cửa, UBND phường (cửa chính)', office, dossierTail: 6 };
}

/** The longest text each template can produce: a dossier code longer than the tail, compartment 999, a 6-digit code. */
function worst(name: TemplateName, s: TextSettings): string {
  const code = name === 'code' || name === 'resent' ? '987654' : undefined;
  return renderSms(name, { dossier: 'H29.12-251123-WW0001', code, deadline: Date.parse('2026-12-31T10:00:00Z'), time: Date.parse('2026-12-31T10:00:00Z'), compartment: 999 }, s);
}

describe('one SMS per message', () => {
  for (const encoding of ['gsm7', 'ucs2'] as const) {
    for (const name of TEMPLATE_NAMES) {
      it(`the ${name} text fits one ${encoding} SMS with the longest values, as the modem encodes it`, () => {
        for (const office of [settings(encoding).office, { hotline: null, hours: null }, ...(encoding === 'gsm7' ? [LONG_OFFICE] : [])]) {
          const s = settings(encoding, office);
          expect(templateProblem(name, s)).toBeNull();
          const text = worst(name, s);
          const pdus = buildSubmitPdus({ to: PHONE, text, ref: 1, statusReport: true });
          expect(pdus.parts, text).toHaveLength(1);
          expect(pdus.encoding).toBe(encoding);
          expect(smsParts(text)).toBe(1);
        }
      });
    }
  }

  it('was three UCS-2 parts before: the old 188-character pickup text is refused as a template now', () => {
    const old = 'Hồ sơ {dossier} của bạn đã sẵn sàng tại Tủ ATM hồ sơ 24/7 (Bộ phận Một cửa, UBND phường). Mã nhận: {code}. Hạn nhận: {deadline}. Nhập số điện thoại và mã này trên màn hình của tủ. ĐT {hotline}';
    const problem = templateProblem('code', { ...settings('ucs2'), templates: { ...NO_TEMPLATES, code: old } });
    expect(problem).toMatch(/needs \d+ UCS-2 characters .* more than the 70 of one SMS/);
    expect(buildSubmitPdus({ to: PHONE, text: worst('code', { ...settings('ucs2'), templates: { ...NO_TEMPLATES, code: old } }), ref: 1, statusReport: false }).parts).toHaveLength(3);
  });

  it('GSM-7 texts have no diacritics at all (đ→d, Đ→D, every tone) and only GSM-7 characters', () => {
    for (const name of TEMPLATE_NAMES) {
      const text = worst(name, settings('gsm7'));
      expect(text).toMatch(/^[\x20-\x7e]+$/);
      expect(smsUnits(text).encoding).toBe('gsm7');
    }
    expect(toGsm7Text('Đường Lê Lợi… “đã” – ừ')).toBe('Duong Le Loi... "da" - u');
    expect(toGsm7Text('ngăn ☺')).toBe('ngan ?');
  });

  it('counts a GSM-7 extension character as two septets when it checks a template', () => {
    expect(smsUnits('[{€}]').units).toBe(10);
    // 151 septets of text around the placeholders plus 9 extension characters: 160 as characters, 169 as septets.
    const base = 'Ma {code} HS {dossier} LH {hotline}';
    const s = settings('gsm7', { hotline: '1', hours: null });
    const filled = worst('code', { ...s, templates: { ...NO_TEMPLATES, code: base } });
    const pad = 160 - 9 - filled.length;
    const template = `${base} ${'x'.repeat(pad - 1)}${'['.repeat(9)}`;
    const withExt = worst('code', { ...s, templates: { ...NO_TEMPLATES, code: template } });
    expect(withExt.length).toBe(160);
    expect(templateProblem('code', { ...s, templates: { ...NO_TEMPLATES, code: template } })).toMatch(/needs 169 GSM-7 septets/);
  });
});

describe('what the texts say', () => {
  it('every text carries the dossier tail and the hotline, in both encodings', () => {
    for (const encoding of ['gsm7', 'ucs2'] as const) {
      for (const name of TEMPLATE_NAMES) {
        const text = worst(name, settings(encoding));
        expect(text).toContain(encoding === 'gsm7' ? '...WW0001' : '…WW0001');
        expect(text).toContain(HOTLINE);
      }
    }
  });

  it('names the one-stop desk where no hotline is configured', () => {
    expect(worst('code_locked', settings('gsm7', { hotline: null, hours: null }))).toContain('lien he bo phan mot cua, gio hanh chinh');
  });

  it('a resent code says it is new; the first code does not', () => {
    for (const encoding of ['gsm7', 'ucs2'] as const) {
      const s = settings(encoding);
      expect(toGsm7Text(worst('resent', s)).toUpperCase()).toContain('MA MOI');
      expect(toGsm7Text(worst('code', s)).toUpperCase()).not.toContain('MOI');
    }
  });

  it('the pickup texts hold the code as their only standalone 6-digit number, the others none', () => {
    for (const encoding of ['gsm7', 'ucs2'] as const) {
      for (const name of TEMPLATE_NAMES) {
        const text = worst(name, settings(encoding));
        expect(text.match(SIX) ?? []).toEqual(name === 'code' || name === 'resent' ? ['987654'] : []);
      }
    }
  });

  it('shortens a dossier tail that would be a second 6-digit number', () => {
    expect(dossierTail('H29.12-251123-0001', 6)).toBe('…3-0001');
    expect(dossierTail('251123', 6)).toBe('…51123');
    expect(dossierTail('HS-251123', 7)).toBe('…51123');
    expect(dossierTail('T-1', 6)).toBe('T-1');
    expect(dossierTail('A1234567890', 10)).toBe('…1234567890'); // ten digits in a row are no code
    const text = renderSms('code', { dossier: '251123', code: '042917', deadline: 0 }, settings('gsm7'));
    expect(text.match(SIX)).toEqual(['042917']);
    expect(text).toContain('...51123');
  });

  it('refuses a hotline with a standalone 6-digit number, and a template that puts a digit against a placeholder', () => {
    const base = { LOCKER_DATA_DIR: tempDir() };
    expect(() => loadConfig({ ...base, LOCKER_OFFICE_HOTLINE: '1900 123456' })).toThrow(/LOCKER_OFFICE_HOTLINE.*6-digit/);
    expect(() => loadConfig({ ...base, LOCKER_SMS_TEMPLATE_CODE: 'Ma {code} HS {dossier}1 LH {hotline}' })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: must not put a digit/);
    expect(() => loadConfig({ ...base, LOCKER_SMS_TEMPLATE_CODE: 'Ma {code} HS {dossier} LH {hotline}{hours}' })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: must not put a digit or another placeholder/);
  });
});

describe('start-up check of the templates', () => {
  const base = () => ({ LOCKER_DATA_DIR: tempDir(), LOCKER_OFFICE_HOTLINE: HOTLINE });

  it('accepts the defaults in both encodings and says which is in use', () => {
    expect(loadConfig(base()).smsOptions.encoding).toBe('gsm7');
    expect(loadConfig(base()).smsPlainText).toBe(true);
    expect(loadConfig({ ...base(), LOCKER_SMS_ENCODING: 'ucs2' }).smsOptions.encoding).toBe('ucs2');
    expect(loadConfig({ ...base(), LOCKER_SMS_PLAIN: 'false' }).smsOptions.encoding).toBe('ucs2');
    expect(() => loadConfig({ ...base(), LOCKER_SMS_PLAIN: 'false', LOCKER_SMS_ENCODING: 'gsm7' })).toThrow(/LOCKER_SMS_PLAIN/);
    expect(() => loadConfig({ ...base(), LOCKER_SMS_ENCODING: 'utf8' })).toThrow(/LOCKER_SMS_ENCODING: must be one of gsm7, ucs2/);
  });

  for (const name of TEMPLATE_NAMES) {
    it(`refuses a ${TEMPLATE_KEYS[name]} that is too long for one SMS or lacks a placeholder, naming it`, () => {
      const fits = DEFAULT_TEMPLATES.gsm7[name];
      expect(() => loadConfig({ ...base(), [TEMPLATE_KEYS[name]]: fits })).not.toThrow();
      const long = `${fits} ${'Xin cam on. '.repeat(5)}`;
      expect(() => loadConfig({ ...base(), [TEMPLATE_KEYS[name]]: long })).toThrow(new RegExp(`${TEMPLATE_KEYS[name]}: needs \\d+ GSM-7 septets`));
      // The same text with diacritics fits GSM-7 but not UCS-2's 70 characters.
      expect(() => loadConfig({ ...base(), LOCKER_SMS_ENCODING: 'ucs2', [TEMPLATE_KEYS[name]]: fits })).toThrow(new RegExp(`${TEMPLATE_KEYS[name]}: needs \\d+ UCS-2 characters`));
      const noDossier = fits.replace('{dossier}', 'hồ sơ');
      expect(() => loadConfig({ ...base(), [TEMPLATE_KEYS[name]]: noDossier })).toThrow(new RegExp(`${TEMPLATE_KEYS[name]}: must contain \\{dossier\\}`));
      const noHotline = fits.replace('{hotline}', 'bộ phận một cửa');
      expect(() => loadConfig({ ...base(), [TEMPLATE_KEYS[name]]: noHotline })).toThrow(new RegExp(`${TEMPLATE_KEYS[name]}: must contain \\{hotline\\}`));
    });
  }

  it('refuses a default text that a long hotline pushes past one SMS, naming its template', () => {
    expect(() => loadConfig({ ...base(), LOCKER_SMS_ENCODING: 'ucs2', LOCKER_OFFICE_HOTLINE: '0243 8253 536 (máy lẻ 12)' })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: the default text .* needs 7\d UCS-2 characters/);
  });

  it('measures {location} with the map\'s location', () => {
    const t = 'Ma {code} HS {dossier} tai {location}. LH {hotline}';
    // The example map's location has 40 characters: too long for UCS-2 with everything else, fine in GSM-7.
    expect(() => loadConfig({ ...base(), LOCKER_SMS_ENCODING: 'ucs2', LOCKER_SMS_TEMPLATE_CODE: t })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: needs \d+ UCS-2/);
    expect(() => loadConfig({ ...base(), LOCKER_SMS_TEMPLATE_CODE: t })).not.toThrow();
    const dir = tempDir();
    const map = JSON.parse(readFileSync(EXAMPLE_MAP_PATH, 'utf8'));
    writeFileSync(join(dir, 'map.json'), JSON.stringify({ ...map, location: 'UBND P.1' }));
    expect(() => loadConfig({ ...base(), LOCKER_MAP: join(dir, 'map.json'), LOCKER_SMS_ENCODING: 'ucs2', LOCKER_SMS_TEMPLATE_CODE: t })).not.toThrow();
  });

  describe('through npm start', () => {
    beforeAll(() => {
      const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
      expect(build.status).toBe(0);
    }, 60_000);

    it('the service refuses to start on a template too long for one SMS, naming it, with exit code 1', async () => {
      const env = { ...process.env, LOCKER_DATA_DIR: tempDir(), LOCKER_PORT: '0', LOCKER_HOST: '127.0.0.1', LOCKER_SMS_TEMPLATE_RESENT: `Ma moi {code} HS {dossier} LH {hotline} ${'x'.repeat(140)}` };
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, startArgs(), { cwd: ROOT, env });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/LOCKER_SMS_TEMPLATE_RESENT: needs \d+ GSM-7 septets/);
      expect(r.out).not.toContain('is listening on');
    }, 30_000);
  });
});

describe('on a running locker', () => {
  let t: TestLocker | null = null;
  const texts = () => t!.sms().filter((m) => m.to === PHONE).map((m) => m.text);

  it('the pickup SMS is one part with the dossier tail and the hotline; a resent code is one part and says it is new', async () => {
    t = await startLocker({ env: { LOCKER_OFFICE_HOTLINE: HOTLINE } });
    try {
      const staff = await t.login('staff');
      await loadDossier(t, staff, 'H29.12-251123-0001', PHONE);
      expect((await t.api('POST', '/api/v1/dossiers/H29.12-251123-0001/resend', undefined, staff)).status).toBe(200);
      await t.locker.sms.drain();
      const [first, resent] = texts();
      for (const text of [first, resent]) {
        expect(smsParts(text), text).toBe(1);
        expect(text).toContain('...3-0001');
        expect(text).toContain(HOTLINE);
        expect(text.match(SIX)).toHaveLength(1);
      }
      expect(first).not.toContain('MOI');
      expect(resent).toMatch(/^MA MOI nhan ho so \.\.\.3-0001: \d{6}/);
      expect(resent).toContain('ma cu khong con dung duoc');
      expect(resent.match(SIX)![0]).toBe(t.codeFor(PHONE));
    } finally {
      await t.stop();
      t = null;
    }
  });
});
