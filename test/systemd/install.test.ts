// systemd/install.sh in dry-run mode against small fabricated roots (--root): the planned
// actions for a fresh Pi, an already configured one, each door driver, the kiosk or not, the
// central role, and the uninstall paths. A dry run changes nothing, which is checked too.
// The real run, in a throwaway copy of this machine, is test/systemd/install-root.test.ts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';

const INSTALL = join(import.meta.dirname, '../../systemd/install.sh');
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function put(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A Raspberry Pi OS as it comes: the usual groups, no locker, a time service on offer. */
function freshRoot(codename = 'trixie'): string {
  const r = tempDir('locker-fakeroot-');
  roots.push(r);
  put(r, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n');
  put(r, 'etc/group', 'root:x:0:\ndialout:x:20:pi\naudio:x:29:pi\nvideo:x:44:pi\npi:x:1000:\n');
  put(r, 'etc/hostname', 'locker-pi\n');
  put(r, 'etc/os-release', `PRETTY_NAME="Debian GNU/Linux"\nVERSION_CODENAME=${codename}\n`);
  put(r, 'usr/lib/systemd/system/systemd-timesyncd.service', '[Service]\n');
  put(r, 'boot/firmware/cmdline.txt', 'console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n');
  return r;
}

function run(args: string[]) {
  const r = spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8' });
  const lines = `${r.stdout}`.split('\n');
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    plan: lines.filter((l) => l.startsWith('plan: ')).map((l) => l.slice(6)),
  };
}

/** Every path under the root with its type, mode and content hash: what "changed nothing" means. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push(`${p} d ${st.mode}`);
        walk(p);
      } else out.push(`${p} ${st.mode} ${st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : ''}`);
    }
  };
  walk(root);
  return out;
}

describe('install.sh --dry-run', () => {
  it('plans a fresh locker: a user in gpio and dialout, a private data dir, config written once, production dependencies, units enabled', () => {
    const root = freshRoot();
    const before = snapshot(root);
    const r = run(['--dry-run', '--root', root]);
    expect(r.code, r.out).toBe(0);
    const id = /^release (\S+) into \/opt\/locker\/releases\/\1 \(npm ci --omit=dev\)$/.exec(r.plan.find((p) => p.startsWith('release '))!)![1];
    expect(id).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    expect(r.plan).toEqual([
      'groupadd gpio',
      'useradd locker home=/var/lib/locker groups=gpio,dialout',
      'mkdir /etc/locker mode=750 owner=root:locker',
      'mkdir /var/lib/locker mode=700 owner=locker:locker',
      'write /etc/locker/locker.env mode=640 owner=root:locker (first install; edit it, it is never overwritten)',
      'write /etc/locker/locker-map.json mode=640 owner=root:locker (first install; edit it, it is never overwritten)',
      'mkdir /etc/locker/tls mode=750 owner=root:locker',
      'make local CA /etc/locker/tls/ca.crt (key ca.key mode=600 owner=root:root)',
      'issue server certificate /etc/locker/tls/server.crt for locker-pi, locker-pi.local, 127.0.0.1 (key server.key mode=640 owner=root:locker)',
      'set LOCKER_TLS_CERT and LOCKER_TLS_KEY in /etc/locker/locker.env',
      'mkdir /opt/locker mode=755 owner=root:root',
      'mkdir /opt/locker/releases mode=755 owner=root:root',
      `release ${id} into /opt/locker/releases/${id} (npm ci --omit=dev)`,
      `link /opt/locker/app -> /opt/locker/releases/${id}`,
      'write /etc/systemd/system/locker.service mode=644 owner=root:root',
      'write /usr/local/bin/locker mode=755 owner=root:root',
      'write /etc/systemd/journald.conf.d/locker.conf mode=644 owner=root:root',
      'systemctl enable systemd-timesyncd.service (codes expire by the clock)',
      'groupadd render',
      'groupadd input',
      'useradd locker-kiosk home=/run/locker-kiosk groups=video,render,input,audio',
      'write /etc/pam.d/locker-kiosk mode=644 owner=root:root',
      'write /etc/locker/kiosk.env mode=644 owner=root:root',
      'write /etc/systemd/system/locker-kiosk.service mode=644 owner=root:root',
      'kernel command line: consoleblank=0 in /boot/firmware/cmdline.txt (next boot)',
      'systemctl enable locker.service',
      'systemctl enable locker-kiosk.service',
    ]);
    // An image is not a running system: no apt, no start, and it says what the target needs.
    expect(r.out).toContain('the target needs: gpiod g++ make python3 cage chromium');
    expect(r.out).toContain('units enabled, they start at the next boot');
    expect(snapshot(root)).toEqual(before);
  });

  it('the same source always plans the same release, so a second install builds nothing new', () => {
    const a = run(['--dry-run', '--root', freshRoot()]).plan.find((p) => p.startsWith('release '));
    const b = run(['--dry-run', '--root', freshRoot()]).plan.find((p) => p.startsWith('release '));
    expect(a).toBeDefined();
    expect(a).toEqual(b);
  });

  it('adds the sysfs drop-in for --doors onoff, and writes the chosen driver into the first config', () => {
    const root = freshRoot();
    const r = run(['--dry-run', '--root', root, '--doors', 'onoff']);
    expect(r.plan).toContain('write /etc/systemd/system/locker.service.d/doors-onoff.conf mode=644 owner=root:root');
    expect(run(['--dry-run', '--root', root, '--doors', 'gpiod']).plan.filter((p) => p.includes('doors-onoff'))).toEqual([]);
  });

  it('on a configured locker: keeps locker.env and the map as the technician left them, and removes a stale onoff drop-in', () => {
    const root = freshRoot();
    put(root, 'etc/passwd', `${readFileSync(join(root, 'etc/passwd'), 'utf8')}locker:x:999:999::/var/lib/locker:/usr/sbin/nologin\n`);
    put(root, 'etc/group', `${readFileSync(join(root, 'etc/group'), 'utf8').replace('dialout:x:20:pi', 'dialout:x:20:pi,locker')}gpio:x:997:locker\nlocker:x:999:\n`);
    put(root, 'etc/locker/locker.env', 'LOCKER_ID=hcm-q1-01\nLOCKER_DOORS=gpiod\n');
    put(root, 'etc/locker/locker-map.json', '{"edited": true}\n');
    put(root, 'etc/systemd/system/locker.service.d/doors-onoff.conf', '[Service]\nProtectKernelTunables=no\n');
    const r = run(['--dry-run', '--root', root]);
    expect(r.code, r.out).toBe(0);
    // An upgraded locker without HTTPS gets the two TLS lines appended, nothing else in its config changes.
    expect(r.plan).toContain('set LOCKER_TLS_CERT and LOCKER_TLS_KEY in /etc/locker/locker.env');
    expect(r.plan.filter((p) => (p.includes('/etc/locker/locker.env') && !p.includes('TLS')) || p.includes('locker-map.json')).every((p) => p.startsWith('chmod '))).toBe(true);
    expect(r.plan.some((p) => p.startsWith('useradd locker ') || p.startsWith('usermod locker'))).toBe(false);
    expect(r.plan).toContain('remove /etc/systemd/system/locker.service.d/doors-onoff.conf (LOCKER_DOORS=gpiod)');
    expect(readFileSync(join(root, 'etc/locker/locker.env'), 'utf8')).toBe('LOCKER_ID=hcm-q1-01\nLOCKER_DOORS=gpiod\n');
  });

  it('makes the HTTPS CA and certificate only where they are missing: none on a configured locker that has them, only the server certificate when it expired, none for a certificate of its own', () => {
    const root = freshRoot();
    put(root, 'etc/passwd', `${readFileSync(join(root, 'etc/passwd'), 'utf8')}locker:x:${process.getuid?.() ?? 0}:999::/var/lib/locker:/usr/sbin/nologin\n`);
    put(root, 'etc/group', `${readFileSync(join(root, 'etc/group'), 'utf8').replace('dialout:x:20:pi', 'dialout:x:20:pi,locker')}gpio:x:997:locker\nlocker:x:999:\n`);
    put(root, 'etc/locker/locker.env', 'LOCKER_ID=hcm-q1-01\nLOCKER_TLS_CERT=/etc/locker/tls/server.crt\nLOCKER_TLS_KEY=/etc/locker/tls/server.key\n');
    const tls = join(root, 'etc/locker/tls');
    mkdirSync(tls, { recursive: true });
    const ssl = (args: string) => {
      const r = spawnSync('bash', ['-c', `cd ${tls} && ${args}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    ssl('openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=ca -addext basicConstraints=critical,CA:TRUE -keyout ca.key -out ca.crt 2>/dev/null');
    ssl('openssl req -newkey rsa:2048 -nodes -subj /CN=locker-pi -keyout server.key -out s.csr 2>/dev/null && openssl x509 -req -in s.csr -CA ca.crt -CAkey ca.key -set_serial 1 -days 30 -out server.crt 2>/dev/null && rm s.csr');
    const tlsPlans = (p: string[]) => p.filter((l) => /tls|TLS| CA |certificate/.test(l));
    const kept = run(['--dry-run', '--root', root]);
    expect(kept.code, kept.out).toBe(0);
    // Modes and owners of the fabricated files differ from the install's; the files themselves stay.
    expect(tlsPlans(kept.plan).filter((l) => !l.startsWith('chmod '))).toEqual([]);
    expect(kept.out).toMatch(/HTTPS: trust \/etc\/locker\/tls\/ca\.crt on each office PC\. Its SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(kept.out).toContain('certutil -addstore -f Root ca.crt');

    // An expired server certificate: issued again from the same CA, which is kept.
    ssl('openssl x509 -req -in <(openssl x509 -x509toreq -in server.crt -signkey server.key 2>/dev/null) -CA ca.crt -CAkey ca.key -set_serial 2 -days 0 -out server.crt 2>/dev/null || openssl x509 -req -in <(openssl x509 -x509toreq -in server.crt -signkey server.key 2>/dev/null) -CA ca.crt -CAkey ca.key -set_serial 2 -not_after 20000101000000Z -out server.crt 2>/dev/null');
    const expired = run(['--dry-run', '--root', root]);
    expect(tlsPlans(expired.plan).filter((l) => !l.startsWith('chmod '))).toEqual([
      'issue server certificate /etc/locker/tls/server.crt for locker-pi, locker-pi.local, 127.0.0.1 from the existing CA (key server.key mode=640 owner=root:locker)',
    ]);

    // A technician's own certificate, configured: no CA, no certificate, the config as it is.
    put(root, 'etc/locker/locker.env', 'LOCKER_TLS_CERT=/etc/ssl/ward.crt\nLOCKER_TLS_KEY=/etc/ssl/ward.key\n');
    const own = run(['--dry-run', '--root', root]);
    expect(tlsPlans(own.plan)).toEqual([]);
    expect(own.out).toContain('HTTPS with the configured LOCKER_TLS_CERT=/etc/ssl/ward.crt (no local CA made)');
  });

  it('changes the driver in an existing config only when asked, and adds a missing group to the user', () => {
    const root = freshRoot();
    put(root, 'etc/passwd', `${readFileSync(join(root, 'etc/passwd'), 'utf8')}locker:x:999:999::/var/lib/locker:/usr/sbin/nologin\n`);
    put(root, 'etc/group', `${readFileSync(join(root, 'etc/group'), 'utf8')}gpio:x:997:locker\nlocker:x:999:\n`);
    put(root, 'etc/locker/locker.env', 'LOCKER_DOORS=gpiod\n');
    const r = run(['--dry-run', '--root', root, '--doors', 'onoff']);
    expect(r.plan).toContain('usermod locker +groups=dialout');
    expect(r.plan).toContain('set LOCKER_DOORS=onoff in /etc/locker/locker.env');
    expect(r.plan).toContain('write /etc/systemd/system/locker.service.d/doors-onoff.conf mode=644 owner=root:root');
  });

  it('--no-kiosk plans no kiosk user, unit, PAM session or kernel option', () => {
    const r = run(['--dry-run', '--root', freshRoot(), '--no-kiosk']);
    expect(r.code, r.out).toBe(0);
    expect(r.plan.filter((p) => /kiosk|consoleblank|render|input/.test(p))).toEqual([]);
    expect(r.plan).toContain('systemctl enable locker.service');
  });

  it('--role central plans the central service on its own user and data dir, and no locker', () => {
    const r = run(['--dry-run', '--root', freshRoot('bookworm'), '--role', 'central']);
    expect(r.code, r.out).toBe(0);
    expect(r.plan).toContain('useradd locker-central home=/var/lib/locker-central groups=none');
    expect(r.plan).toContain('mkdir /var/lib/locker-central mode=700 owner=locker-central:locker-central');
    expect(r.plan).toContain('write /etc/systemd/system/locker-central.service mode=644 owner=root:root');
    expect(r.plan).toContain('systemctl enable locker-central.service');
    expect(r.plan).toContain('make local CA /etc/locker/tls/ca.crt (key ca.key mode=600 owner=root:root)');
    expect(r.plan).toContain('issue server certificate /etc/locker/tls/server.crt for locker-pi, locker-pi.local, 127.0.0.1 (key server.key mode=640 owner=root:locker-central)');
    expect(r.plan).toContain('set CENTRAL_TLS_CERT and CENTRAL_TLS_KEY in /etc/locker/central.env');
    expect(r.plan.filter((p) => /locker\.service|kiosk|gpio|\/var\/lib\/locker /.test(p))).toEqual([]);
    expect(r.out).toContain('set CENTRAL_MQTT_URL in /etc/locker/central.env');
  });

  it('--uninstall removes the services and the code and keeps data and config; --purge removes those and the users', () => {
    const root = freshRoot();
    put(root, 'etc/passwd', `${readFileSync(join(root, 'etc/passwd'), 'utf8')}locker:x:999:999::/var/lib/locker:/usr/sbin/nologin\n`);
    put(root, 'etc/systemd/system/locker.service', '[Service]\n');
    put(root, 'etc/systemd/system/locker.service.d/doors-onoff.conf', '[Service]\n');
    mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    symlinkSync('/etc/systemd/system/locker.service', join(root, 'etc/systemd/system/multi-user.target.wants/locker.service'));
    put(root, 'opt/locker/releases/0.1.0-abc/package.json', '{}');
    put(root, 'var/lib/locker/locker.db', 'data');
    put(root, 'etc/locker/locker.env', 'LOCKER_ID=x\n');
    const before = snapshot(root);

    const keep = run(['--dry-run', '--root', root, '--uninstall']);
    expect(keep.code, keep.out).toBe(0);
    expect(keep.plan).toEqual([
      'systemctl disable locker.service',
      'remove /etc/systemd/system/locker.service',
      'remove /etc/systemd/system/locker.service.d',
      'remove /opt/locker (the code; data and config are elsewhere)',
    ]);
    expect(keep.out).toContain('kept /var/lib/locker (remove it with --uninstall --purge)');
    expect(keep.out).toContain('kept /etc/locker');

    const purge = run(['--dry-run', '--root', root, '--uninstall', '--purge']);
    expect(purge.plan).toContain('remove /var/lib/locker (data: database, secrets, backups)');
    expect(purge.plan).toContain('remove /etc/locker (config)');
    expect(purge.plan).toContain('userdel locker');
    expect(snapshot(root)).toEqual(before);
  });

  it('refuses bad options with exit code 2, and a real run without root', () => {
    expect(run(['--doors', 'relays', '--dry-run']).code).toBe(2);
    expect(run(['--role', 'kiosk', '--dry-run']).code).toBe(2);
    expect(run(['--purge', '--dry-run']).code).toBe(2);
    expect(run(['--frobnicate']).code).toBe(2);
    // The script on stdin: a checkout under a private directory (a home, mktemp -d) is out of nobody's
    // reach, and the root check comes before the script looks for its own files.
    const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-s'], {
      encoding: 'utf8',
      input: readFileSync(INSTALL, 'utf8'),
    });
    if (!asNobody.error && process.getuid?.() === 0) {
      expect(asNobody.status).toBe(1);
      expect(asNobody.stderr).toContain('run it as root');
    }
    expect(statSync(INSTALL).mode & 0o111).not.toBe(0);
  });
});
