#!/usr/bin/env node
// Renders the kiosk's spoken prompts to WAV files with espeak-ng, from the kiosk's own texts
// (server/web/kiosk-text.js), so the kiosk needs no network and no speech engine at run time.
//
//   node server/cli/kiosk-voice.mjs [--out DIR] [--if-available] [--espeak PATH]
//
// DIR defaults to LOCKER_KIOSK_VOICE_DIR, else server/dist/voice. Writes <lang>/<key>.wav,
// <lang>/n<number>.wav and manifest.json (which clips exist, and the text each was made from,
// so a later run renders only what changed). --if-available: without espeak-ng, say so in one
// line and exit 0 (`npm run build` on a laptop without it; the kiosk then stays silent).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KIOSK_TEXT, SPOKEN, SPOKEN_NUMBERS, VOICES } from '../web/kiosk-text.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What each clip says: {lang: {file stem: text}}. "Ông/Bà" is read as the two words it stands for. */
export function spokenTexts() {
  const out = {};
  for (const lang of Object.keys(VOICES)) {
    const clips = {};
    for (const key of SPOKEN) clips[key] = KIOSK_TEXT[lang][key].replaceAll('Ông/Bà', 'Ông Bà').replace(/[«»]/g, '');
    for (let n = 1; n <= SPOKEN_NUMBERS; n++) clips[`n${n}`] = String(n);
    out[lang] = clips;
  }
  return out;
}

function findEspeak(given) {
  const candidates = given ? [given] : ['espeak-ng'];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}

/** Renders into `out`; returns {rendered, kept}. Throws when espeak-ng fails on a text. */
export function renderVoice(out, { espeak = 'espeak-ng' } = {}) {
  const manifestPath = join(out, 'manifest.json');
  let old = { voices: {}, clips: {} };
  try {
    old = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    // first run, or a manifest from elsewhere: render everything
  }
  const texts = spokenTexts();
  const manifest = { made: 'espeak-ng', voices: VOICES, clips: {} };
  let rendered = 0;
  let kept = 0;
  for (const [lang, clips] of Object.entries(texts)) {
    mkdirSync(join(out, lang), { recursive: true });
    manifest.clips[lang] = {};
    for (const [stem, text] of Object.entries(clips)) {
      const file = join(out, lang, `${stem}.wav`);
      if (old.voices?.[lang] === VOICES[lang] && old.clips?.[lang]?.[stem] === text && existsSync(file)) {
        kept++;
      } else {
        const tmp = `${file}.tmp`;
        // -s 150: a little slower than espeak-ng's 175 words a minute, for elderly listeners.
        execFileSync(espeak, ['-v', VOICES[lang], '-s', '150', '-w', tmp, text], { stdio: ['ignore', 'ignore', 'pipe'] });
        renameSync(tmp, file);
        rendered++;
      }
      manifest.clips[lang][stem] = text;
    }
  }
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  return { rendered, kept };
}

async function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = resolve(arg('--out') ?? process.env.LOCKER_KIOSK_VOICE_DIR ?? join(ROOT, 'server', 'dist', 'voice'));
  const espeak = findEspeak(arg('--espeak'));
  if (!espeak) {
    const line = 'kiosk voice: espeak-ng is not installed, so the kiosk stays silent (apt-get install espeak-ng, then npm run build)';
    if (argv.includes('--if-available')) {
      console.log(line);
      return 0;
    }
    console.error(line);
    return 1;
  }
  try {
    const { rendered, kept } = renderVoice(out, { espeak });
    console.log(`kiosk voice: ${rendered} clips rendered, ${kept} unchanged, in ${out}`);
    return 0;
  } catch (err) {
    rmSync(join(out, 'manifest.json'), { force: true });
    console.error(`kiosk voice: espeak-ng failed: ${err.stderr?.toString().trim() || err.message}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
