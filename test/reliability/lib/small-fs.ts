// A small real filesystem to fill up: a loop-mounted ext4 image where the kernel lets us mount
// one (root, or passwordless sudo as on CI runners), else a size-limited tmpfs. SQLite's
// max_page_count is not used: it is not a disk, and the WAL, the secrets and the SMS file would
// never feel it.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  kind: string;
  dir: string;
  /** Writes a filler file until the filesystem refuses; returns the bytes written. */
  fill(): number;
  /** Removes the filler: space comes back. */
  free(): void;
  close(): void;
}

function run(argv: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [cmd, ...args] = asRoot ? argv : ['sudo', '-n', ...argv];
  execFileSync(cmd, args, { stdio: 'pipe' });
}

/** Mounts a filesystem of `mb` MiB, or says precisely why none could be mounted. */
export function mountSmallFs(mb: number): SmallFs | { unavailable: string } {
  const base = mkdtempSync(join(tmpdir(), 'locker-smallfs-'));
  const dir = join(base, 'mnt');
  execFileSync('mkdir', ['-p', dir]);
  const reasons: string[] = [];
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const attempts: [string, () => void][] = [
    [
      'loop-mounted ext4 image',
      () => {
        const img = join(base, 'disk.img');
        execFileSync('truncate', ['-s', `${mb}M`, img]);
        // -m 0: no blocks reserved for root, so "full" means full for the service too.
        execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', `root_owner=${uid}:${gid}`, img], { stdio: 'pipe' });
        run(['mount', '-o', 'loop', img, dir]);
      },
    ],
    ['tmpfs', () => run(['mount', '-t', 'tmpfs', '-o', `size=${mb}m,uid=${uid},gid=${gid},mode=0700`, 'tmpfs', dir])],
  ];
  for (const [kind, mount] of attempts) {
    try {
      mount();
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      reasons.push(`${kind}: ${(e.stderr?.toString() || e.message).trim().split('\n')[0]}`);
      continue;
    }
    const filler = join(dir, 'filler');
    return {
      kind: `${kind}, ${mb} MiB`,
      dir,
      fill() {
        const fd = openSync(filler, 'a');
        let written = 0;
        try {
          for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
            const chunk = Buffer.alloc(size, 0x55);
            for (;;) {
              try {
                written += writeSync(fd, chunk);
              } catch {
                break;
              }
            }
          }
        } finally {
          closeSync(fd);
        }
        return written;
      },
      free() {
        if (existsSync(filler)) unlinkSync(filler);
      },
      close() {
        try {
          run(['umount', '-l', dir]);
        } catch {
          // already gone
        }
        rmSync(base, { recursive: true, force: true });
      },
    };
  }
  rmSync(base, { recursive: true, force: true });
  return { unavailable: reasons.join('; ') };
}
