// The kiosk's voice files, rendered with the real espeak-ng (Debian's package; .ci/run installs it):
// one WAV per spoken text and door number per language, a manifest, and re-runs that render only
// what changed. Without espeak-ng, `--if-available` (what `npm run build` passes) says so and succeeds.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain module without types
import { renderVoice, spokenTexts } from '../../server/cli/kiosk-voice.mjs';
// @ts-expect-error plain browser module without types
import { KIOSK_TEXT, SPOKEN, SPOKEN_NUMBERS } from '../../server/web/kiosk-text.js';
import { tempDir } from '../helpers/locker.ts';

const SCRIPT = join(process.cwd(), 'server', 'cli', 'kiosk-voice.mjs');
const hasEspeak = spawnSync('espeak-ng', ['--version']).status === 0;

describe('kiosk voice files', () => {
  it('speaks the kiosk texts, with "Ông/Bà" read as two words', () => {
    const texts = spokenTexts();
    expect(Object.keys(texts).sort()).toEqual(['en', 'vi']);
    expect(texts.vi.sayPhone).toBe(KIOSK_TEXT.vi.sayPhone.replaceAll('Ông/Bà', 'Ông Bà'));
    expect(texts.en.wrongCode).toBe(KIOSK_TEXT.en.wrongCode);
    expect(texts.vi.n24).toBe('24');
    expect(Object.keys(texts.vi)).toHaveLength(SPOKEN.length + SPOKEN_NUMBERS);
  });

  it.skipIf(!hasEspeak)('renders a WAV file per spoken text and door number with espeak-ng, then only what changed', () => {
    const out = tempDir('kiosk-voice-');
    const first = renderVoice(out);
    expect(first).toEqual({ rendered: 2 * (SPOKEN.length + SPOKEN_NUMBERS), kept: 0 });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.voices).toEqual({ vi: 'vi', en: 'en' });
    for (const lang of ['vi', 'en']) {
      for (const stem of [...SPOKEN, 'n1', `n${SPOKEN_NUMBERS}`]) {
        const wav = readFileSync(join(out, lang, `${stem}.wav`));
        expect(wav.subarray(0, 4).toString('latin1'), `${lang}/${stem}`).toBe('RIFF');
        expect(wav.subarray(8, 12).toString('latin1')).toBe('WAVE');
        expect(wav.length, `${lang}/${stem} holds sound`).toBeGreaterThan(4000);
      }
    }
    // A sentence says more than a door number.
    expect(readFileSync(join(out, 'vi', 'sayPhone.wav')).length).toBeGreaterThan(readFileSync(join(out, 'vi', 'n7.wav')).length * 3);

    expect(renderVoice(out)).toEqual({ rendered: 0, kept: first.rendered });
    // A text that changed since the last run (here: the manifest remembers another one) is rendered again.
    manifest.clips.vi.wrongCode = 'older words';
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
    expect(renderVoice(out)).toEqual({ rendered: 1, kept: first.rendered - 1 });

    // The command line (what `npm run build` and install.sh run) into the folder it is given.
    const stdout = execFileSync(process.execPath, [SCRIPT, '--out', out], { encoding: 'utf8' });
    expect(stdout).toBe(`kiosk voice: 0 clips rendered, ${first.rendered} unchanged, in ${out}\n`);
  }, 180_000); // some 230 espeak-ng runs: 6 s on an idle laptop, longer on a busy CI runner

  it('says in one line that the kiosk stays silent when espeak-ng is missing, and fails only without --if-available', () => {
    const out = tempDir('kiosk-voice-none-');
    const soft = spawnSync(process.execPath, [SCRIPT, '--out', out, '--espeak', '/nonexistent/espeak-ng', '--if-available'], { encoding: 'utf8' });
    expect(soft.status).toBe(0);
    expect(soft.stdout.trim().split('\n')).toEqual([
      'kiosk voice: espeak-ng is not installed, so the kiosk stays silent (apt-get install espeak-ng, then npm run build)',
    ]);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    const hard = spawnSync(process.execPath, [SCRIPT, '--out', out, '--espeak', '/nonexistent/espeak-ng'], { encoding: 'utf8' });
    expect(hard.status).toBe(1);
  });
});
