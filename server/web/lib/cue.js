// Audible cues made with Web Audio: no sound files to ship, works offline.
// The last cue is also written to <body data-cue> so tests (and a support person) can see it.

let audio = null;
let count = 0;

const TUNES = {
  key: [[880, 0.03, 0.05]],
  success: [
    [660, 0.16, 0.25],
    [880, 0.16, 0.25],
    [1320, 0.35, 0.25],
  ],
  error: [
    [330, 0.22, 0.25],
    [247, 0.35, 0.25],
  ],
  warning: [
    [523, 0.2, 0.2],
    [523, 0.2, 0.2],
  ],
};

export function cue(kind) {
  if (kind !== 'key') {
    count++;
    document.body.dataset.cue = kind;
    document.body.dataset.cueCount = String(count);
  }
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume();
    let t = audio.currentTime + 0.01;
    for (const [freq, dur, vol] of TUNES[kind] ?? []) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(vol, t);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + dur + 0.02);
      t += dur + 0.04;
    }
  } catch {
    // no audio device: the screen still says everything
  }
}
