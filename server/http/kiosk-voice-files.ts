// The kiosk's spoken prompts as `npm run build` left them (server/cli/kiosk-voice.mjs): read the
// manifest once at start, then serve only the clips it lists. No manifest (espeak-ng was not
// installed when the release was built): no clips, and the kiosk stays silent without an error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface VoiceClips {
  /** Clip names per language, e.g. {vi: ['sayPhone', 'n1', …]}. */
  clips: Record<string, string[]>;
  /** The WAV file of one clip, or null when there is none. */
  file(lang: string, stem: string): string | null;
}

const NAME = /^[a-z]{2}$/;
const STEM = /^[A-Za-z0-9]{1,40}$/;

export function loadVoiceClips(dir: string): VoiceClips {
  let listed: Record<string, Record<string, string>> = {};
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    if (manifest && typeof manifest.clips === 'object') listed = manifest.clips;
  } catch {
    listed = {};
  }
  const clips: Record<string, string[]> = {};
  for (const [lang, stems] of Object.entries(listed)) {
    if (!NAME.test(lang) || !stems || typeof stems !== 'object') continue;
    clips[lang] = Object.keys(stems).filter((s) => STEM.test(s));
  }
  const known = new Set(Object.entries(clips).flatMap(([lang, stems]) => stems.map((s) => `${lang}/${s}`)));
  return {
    clips,
    file: (lang, stem) => (known.has(`${lang}/${stem}`) ? join(dir, lang, `${stem}.wav`) : null),
  };
}
