// Stand-ins for Debian's gpiod tools, written as small shell scripts into a temp bin dir that the
// test puts first on PATH. They speak the libgpiod 1.6 or 2.x syntax (FAKE_LIBGPIOD), record every
// call (calls.log) and every line level they set (levels.log), read sensor levels from files and
// emit edges appended to a file, formatted with the --format the driver asked for.
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROLOGUE = (tool: string) => `#!/bin/sh
tool=${tool}
# One write per call, so lines from tools running at the same time never interleave.
line=$tool; for a in "$@"; do line="$line$(printf '\\t')$a"; done
printf '%s\\n' "$line" >> "$FAKE_GPIO/calls.log"
if [ "$1" = --version ]; then echo "$tool (libgpiod) v$FAKE_LIBGPIOD"; exit 0; fi
major=\${FAKE_LIBGPIOD%%.*}
if [ -e "$FAKE_GPIO/fail-$tool" ]; then cat "$FAKE_GPIO/fail-$tool" >&2; exit 1; fi
now() { date +%s%3N; }
`;

const GPIOSET = `${PROLOGUE('gpioset')}
chip=; lv=; mode=exit; sec=0; usec=0; toggle=; banner=
if [ "$major" = 1 ]; then
  for a in "$@"; do
    case "$a" in
      --mode=*) mode=\${a#--mode=} ;;
      --sec=*) sec=\${a#--sec=} ;;
      --usec=*) usec=\${a#--usec=} ;;
      -*) ;;
      *=*) lv=$a ;;
      *) chip=$a ;;
    esac
  done
else
  mode=hold
  while [ $# -gt 0 ]; do
    case "$1" in
      --banner) banner=1 ;;
      -c) shift; chip=$1 ;;
      -t) shift; toggle=$1 ;;
      -*) ;;
      *) lv=$1 ;;
    esac
    shift
  done
fi
off=\${lv%%=*}; val=\${lv#*=}
if [ -e "$FAKE_GPIO/busy-$chip-$off" ]; then
  echo "gpioset: unable to request lines on chip '/dev/$chip': Device or resource busy" >&2; exit 1
fi
release() { echo "$(now) $chip $off $val release $$" >> "$FAKE_GPIO/levels.log"; }
trap 'release; exit 0' TERM INT
echo "$(now) $chip $off $val request $$" >> "$FAKE_GPIO/levels.log"
[ -n "$banner" ] && echo "Setting line '$off'..."
if [ -n "$toggle" ]; then
  ms=\${toggle%%ms,*}
  sleep "$(awk "BEGIN { printf \\"%.3f\\", $ms / 1000 }")" & wait $!
  val=$((1 - val))
  echo "$(now) $chip $off $val toggle $$" >> "$FAKE_GPIO/levels.log"
  release; exit 0
fi
if [ "$mode" = time ]; then sleep "$sec.$(printf %06d "$usec")" & wait $!; release; exit 0; fi
if [ "$mode" = exit ]; then release; exit 0; fi
while :; do sleep 1 & wait $!; done
`;

const GPIOGET = `${PROLOGUE('gpioget')}
chip=; offs=
if [ "$major" = 1 ]; then
  for a in "$@"; do
    case "$a" in -*) ;; *) if [ -z "$chip" ]; then chip=$a; else offs="$offs $a"; fi ;; esac
  done
else
  while [ $# -gt 0 ]; do
    case "$1" in -c) shift; chip=$1 ;; --bias|-b) shift ;; -*) ;; *) offs="$offs $1" ;; esac
    shift
  done
fi
out=
for o in $offs; do
  v=$(cat "$FAKE_GPIO/in-$chip-$o" 2>/dev/null || echo 0)
  if [ "$major" = 1 ]; then out="$out $v"
  elif [ "$v" = 1 ]; then out="$out \\"$o\\"=active"
  else out="$out \\"$o\\"=inactive"; fi
done
echo \${out# }
`;

const GPIOMON = `${PROLOGUE('gpiomon')}
chip=; fmt=; lb=; banner=
if [ "$major" = 1 ]; then
  for a in "$@"; do
    case "$a" in
      --format=*) fmt=\${a#--format=} ;;
      --line-buffered|-b) lb=1 ;;
      -*) ;;
      *) [ -z "$chip" ] && chip=$a ;;
    esac
  done
else
  lb=1
  while [ $# -gt 0 ]; do
    case "$1" in -c) shift; chip=$1 ;; --format|-F) shift; fmt=$1 ;; --bias|-b) shift ;; --banner) banner=1 ;; *) ;; esac
    shift
  done
fi
touch "$FAKE_GPIO/edges-$chip"
# Edges appended from now on are reported (the lines are requested now).
size=$(wc -c < "$FAKE_GPIO/edges-$chip")
[ -n "$banner" ] && echo "Monitoring line ..."
echo $$ > "$FAKE_GPIO/gpiomon-$chip.pid"
# libgpiod 1.6 without --line-buffered writes into a pipe in 4 KiB blocks: a door edge never arrives.
if [ -z "$lb" ]; then exec > /dev/null; fi
tail -c +$((size + 1)) -s 0.02 -f "$FAKE_GPIO/edges-$chip" | while read o edge; do
  if [ "$edge" = rising ]; then n1=1; n2=1; else n1=0; n2=2; fi
  if [ "$major" = 1 ]; then num=$n1; else num=$n2; fi
  printf '%s\\n' "$fmt" | sed -e "s/%o/$o/g" -e "s/%E/$edge/g" -e "s/%e/$num/g"
done
`;

const GPIODETECT = `${PROLOGUE('gpiodetect')}
cat "$FAKE_GPIO/detect.txt"
`;

export interface Standins {
  bin: string;
  state: string;
  env: NodeJS.ProcessEnv;
  calls(tool?: string): string[][];
  levels(): { at: number; chip: string; offset: number; value: 0 | 1; what: string; pid: number }[];
  setInput(chip: string, offset: number, value: 0 | 1): void;
  edge(chip: string, offset: number, edge: 'rising' | 'falling'): void;
  gpiomonPid(chip: string): number | null;
  touch(name: string, content?: string): void;
  cleanup(): void;
}

export function installStandins(version: string, detect = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n'): Standins {
  const dir = mkdtempSync(join(tmpdir(), 'locker-gpiod-'));
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  for (const [name, text] of Object.entries({ gpioset: GPIOSET, gpioget: GPIOGET, gpiomon: GPIOMON, gpiodetect: GPIODETECT })) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(state, 'detect.txt'), detect);
  writeFileSync(join(state, 'calls.log'), '');
  writeFileSync(join(state, 'levels.log'), '');
  const read = (f: string) => (existsSync(join(state, f)) ? readFileSync(join(state, f), 'utf8') : '');
  return {
    bin,
    state,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_GPIO: state, FAKE_LIBGPIOD: version },
    calls(tool) {
      const all = read('calls.log')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .filter((c) => c[1] !== '--version');
      return tool ? all.filter((c) => c[0] === tool) : all;
    },
    levels() {
      return read('levels.log')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [at, chip, offset, value, what, pid] = l.split(' ');
          return { at: Number(at), chip, offset: Number(offset), value: Number(value) as 0 | 1, what, pid: Number(pid) };
        });
    },
    setInput(chip, offset, value) {
      writeFileSync(join(state, `in-${chip}-${offset}`), String(value));
    },
    edge(chip, offset, edge) {
      appendFileSync(join(state, `edges-${chip}`), `${offset} ${edge}\n`);
    },
    gpiomonPid(chip) {
      const t = read(`gpiomon-${chip}.pid`).trim();
      return t ? Number(t) : null;
    },
    touch(name, content = '') {
      writeFileSync(join(state, name), content);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
