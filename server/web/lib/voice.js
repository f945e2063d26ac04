// The kiosk's spoken prompts: WAV clips made at build time (server/cli/kiosk-voice.mjs), played
// one after another from a single <audio> element. Only clips the server lists are asked for,
// so a locker built without espeak-ng (or with LOCKER_KIOSK_VOICE=off) is silent, never broken.
// The clips of the last utterance are written to <body data-spoken> for tests and support staff.

export function createVoice(audio) {
  let clips = {}; // {lang: Set of clip names}
  let queue = [];
  let serial = 0;

  function next() {
    const src = queue.shift();
    if (!src) return;
    audio.src = src;
    // A browser that refuses to play without a touch first just stays silent; the screen says it all.
    const p = audio.play();
    if (p && typeof p.catch === 'function') p.catch(() => {});
  }
  audio.addEventListener('ended', next);
  audio.addEventListener('error', next);

  return {
    configure({ on, volume, clips: available }) {
      clips = {};
      if (!on) return;
      for (const [lang, names] of Object.entries(available ?? {})) clips[lang] = new Set(names);
      audio.volume = Math.min(1, Math.max(0, volume / 100));
    },
    /** Says `names` in `lang`, cutting off whatever was being said. Names without a clip are skipped. */
    say(lang, names) {
      const have = clips[lang];
      const said = have ? names.filter((n) => have.has(n)) : [];
      serial++;
      document.body.dataset.spoken = said.join(' ');
      document.body.dataset.spokenCount = String(serial);
      queue = said.map((n) => `/api/v1/kiosk/voice/${lang}/${n}.wav`);
      if (!audio.paused) audio.pause();
      next();
    },
    stop() {
      queue = [];
      if (!audio.paused) audio.pause();
    },
  };
}
