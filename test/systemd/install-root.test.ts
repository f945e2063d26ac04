// systemd/install.sh for real, as root, in a throwaway copy of this machine
// (test/systemd/throwaway-root.sh: a private mount namespace with a copy-on-write overlay of /,
// chrooted). Users, groups, modes, the release with production dependencies only, enabled
// units, the CLI wrapper, the local CA and HTTPS certificate, the installed app actually serving, a second run that changes
// nothing, an update that backs up first and keeps the data, uninstall and purge.
// systemctl inside a chroot enables units but starts nothing, like on a fresh image.
//
// Slow (npm ci twice, better-sqlite3 compiled from source here): runs in CI (CI=true) or
// with LOCKER_TEST_INSTALL_ROOT=1; LOCKER_TEST_INSTALL_ROOT=0 turns it off.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HELPER = join(import.meta.dirname, 'throwaway-root.sh');
const enabled = process.env.LOCKER_TEST_INSTALL_ROOT === '1' || (!!process.env.CI && process.env.LOCKER_TEST_INSTALL_ROOT !== '0');

let holder: ChildProcess | null = null;
let dir = '';
let unavailable = '';

/** Runs a bash command inside the throwaway root, as root. */
function sh(cmd: string, timeoutMs = 600_000): { code: number | null; out: string } {
  const r = spawnSync('nsenter', ['-t', String(holder!.pid), '-m', '--', 'chroot', join(dir, 'root'), 'bash', '-c', cmd], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      // better-sqlite3 would first try to download a prebuilt binary, which this network
      // cannot reach; on a Pi that download is what makes the install quick.
      npm_config_build_from_source: 'true',
    },
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function ok(cmd: string, timeoutMs?: number): string {
  const r = sh(cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`\`${cmd}\` exited ${r.code}:\n${r.out}`);
  return r.out;
}

describe.skipIf(!enabled)('install.sh in a throwaway root', () => {
  beforeAll(async () => {
    holder = spawn(HELPER, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve) => {
      let out = '';
      holder!.stdout!.on('data', (d) => {
        out += d;
        if (/^(ready|unavailable).*\n/m.test(out)) resolve(out);
      });
      holder!.stderr!.on('data', (d) => (out += d));
      holder!.once('exit', () => resolve(out || 'unavailable: helper exited'));
    });
    const m = /^ready (\S+)$/m.exec(line);
    if (m) dir = m[1];
    else unavailable = line.trim();
  }, 120_000);

  afterAll(async () => {
    if (holder && holder.exitCode === null) {
      const gone = new Promise((res) => holder!.once('exit', res));
      holder.kill('SIGTERM');
      await gone;
    }
    // The overlay lived in the namespace and is gone with it; what is left is an empty folder.
    if (dir) rmdirSync(dir);
  });

  it('installs, serves, changes nothing on a second run, updates without losing data, uninstalls and purges', () => {
    expect(unavailable, `the throwaway root could not be made here: ${unavailable}`).toBe('');

    // --- first install ---
    const first = ok('/src/systemd/install.sh 2>&1');
    expect(first).toContain('install: systemctl enable locker.service');
    expect(first).toContain('units enabled, they start at the next boot');
    expect(ok('id -nG locker').trim().split(' ').sort()).toEqual(['dialout', 'gpio', 'locker']);
    expect(ok('getent passwd locker | cut -d: -f6,7').trim()).toBe('/var/lib/locker:/usr/sbin/nologin');
    expect(ok('stat -c "%a %U:%G %n" /var/lib/locker /etc/locker /etc/locker/locker.env /etc/locker/locker-map.json /etc/systemd/system/locker.service').trim().split('\n')).toEqual([
      '700 locker:locker /var/lib/locker',
      '750 root:locker /etc/locker',
      '640 root:locker /etc/locker/locker.env',
      '640 root:locker /etc/locker/locker-map.json',
      '644 root:root /etc/systemd/system/locker.service',
    ]);
    ok('test -L /etc/systemd/system/multi-user.target.wants/locker.service && test -L /etc/systemd/system/multi-user.target.wants/locker-kiosk.service');
    ok('cmp /src/systemd/locker.service /etc/systemd/system/locker.service');
    const release = ok('readlink /opt/locker/app').trim();
    expect(release).toMatch(/^\/opt\/locker\/releases\/\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    // Production dependencies only: the runtime is there, the test tools are not.
    ok('test -f /opt/locker/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node && test -d /opt/locker/app/node_modules/fastify');
    expect(sh('test -e /opt/locker/app/node_modules/vitest || test -e /opt/locker/app/node_modules/typescript || test -e /opt/locker/app/test').code).toBe(1);
    expect(ok('id -nG locker-kiosk').trim().split(' ')).toEqual(expect.arrayContaining(['video', 'render', 'input']));

    // --- HTTPS: a local CA and a server certificate for this host, configured, the kiosk on loopback ---
    expect(ok('stat -c "%a %U:%G %n" /etc/locker/tls /etc/locker/tls/ca.key /etc/locker/tls/ca.crt /etc/locker/tls/server.key /etc/locker/tls/server.crt').trim().split('\n')).toEqual([
      '750 root:locker /etc/locker/tls',
      '600 root:root /etc/locker/tls/ca.key',
      '644 root:root /etc/locker/tls/ca.crt',
      '640 root:locker /etc/locker/tls/server.key',
      '644 root:root /etc/locker/tls/server.crt',
    ]);
    const host = ok('hostname').trim();
    const sans = ok('openssl x509 -in /etc/locker/tls/server.crt -noout -ext subjectAltName');
    expect(sans).toContain(`DNS:${host}, DNS:${host}.local, IP Address:127.0.0.1`);
    // openssl prints IPv6 addresses written out in full: compare them in one canonical form.
    const canon = (ip: string) => (ip.includes(':') ? new URL(`http://[${ip}]/`).hostname : ip);
    const sanIps = [...sans.matchAll(/IP Address:([0-9A-Fa-f:.]+)/g)].map((m) => canon(m[1]));
    expect(sanIps).toEqual(expect.arrayContaining(ok('hostname -I').trim().split(/\s+/).filter(Boolean).map(canon)));
    ok('openssl verify -CAfile /etc/locker/tls/ca.crt /etc/locker/tls/server.crt');
    expect(ok('grep -E "^LOCKER_TLS_(CERT|KEY)=" /etc/locker/locker.env').trim().split('\n')).toEqual(['LOCKER_TLS_CERT=/etc/locker/tls/server.crt', 'LOCKER_TLS_KEY=/etc/locker/tls/server.key']);
    expect(ok('grep ^LOCKER_KIOSK_URL= /etc/locker/kiosk.env').trim()).toBe('LOCKER_KIOSK_URL=http://127.0.0.1:8081/');
    const fingerprint = ok("openssl x509 -in /etc/locker/tls/ca.crt -noout -fingerprint -sha256 | sed 's/^[^=]*=//'").trim();
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(first).toContain(`Its SHA-256 fingerprint: ${fingerprint}`);
    expect(first).toContain('certutil -addstore -f Root ca.crt');

    // --- the installed app works as the service's user, with the installed settings, from the bundle its unit runs ---
    // --init: systemctl started nothing in the chroot, so the service has not made its database yet.
    const add = ok('printf "a long admin password\\n" | locker user add amin --role admin --password-stdin --init 2>&1');
    expect(add).toContain('user amin added');
    const served = ok(
      [
        'cd /opt/locker/app',
        // setpriv execs (runuser would stay in between and answer SIGTERM with its own 143).
        // The service's user reads the installed key; the office PCs' view is curl trusting only the CA.
        'setpriv --reuid=locker --regid=locker --init-groups env LOCKER_DATA_DIR=/var/lib/locker LOCKER_MAP=/etc/locker/locker-map.json LOCKER_DOORS=sim LOCKER_HOST=127.0.0.1 LOCKER_PORT=0 LOCKER_LOOPBACK_PORT=0 LOCKER_TLS_CERT=/etc/locker/tls/server.crt LOCKER_TLS_KEY=/etc/locker/tls/server.key TMPDIR=/tmp node server/dist/main.js > /tmp/run.log 2>&1 &',
        'pid=$!',
        'for i in $(seq 1 300); do grep -q "is listening on" /tmp/run.log && break; sleep 0.2; done',
        'url=$(grep -o "https://127.0.0.1:[0-9]*" /tmp/run.log | head -1)',
        'echo "health $(curl -sS --cacert /etc/locker/tls/ca.crt "$url/healthz" | node -p "JSON.parse(require(\'fs\').readFileSync(0)).status")"',
        'port=${url##*:}; h=$(hostname)',
        'curl -sS -o /dev/null -w "by name %{http_code}\\n" --cacert /etc/locker/tls/ca.crt --resolve "$h.local:$port:127.0.0.1" "https://$h.local:$port/healthz"',
        'kill -TERM $pid; wait $pid; echo "exit $?"',
      ].join('\n'),
      120_000,
    );
    expect(served).toContain('health ok');
    expect(served).toContain('by name 200');
    expect(served).toContain('exit 0');
    // Files the CLI and the service create belong to the service's user (the data dir is 0700).
    expect(ok('stat -c "%U %n" /var/lib/locker/locker.db /var/lib/locker/secrets.json').trim().split('\n')).toEqual(['locker /var/lib/locker/locker.db', 'locker /var/lib/locker/secrets.json']);

    // --- a second run changes nothing, and its dry run plans nothing ---
    expect(ok('/src/systemd/install.sh --dry-run 2>&1')).toMatch(/install: nothing to change\s*$/);
    const again = ok('/src/systemd/install.sh 2>&1');
    expect(again).not.toMatch(/^install: (write|mkdir|chmod|release|link|useradd|usermod|groupadd|remove|systemctl enable)/m);
    expect(again).toContain('install: nothing to change');
    expect(again).toContain(`Its SHA-256 fingerprint: ${fingerprint}`);

    // --- the technician's config survives; an update backs up first, keeps the data, keeps the previous release ---
    ok("sed -i 's/^LOCKER_ID=.*/LOCKER_ID=hcm-q1-07/' /etc/locker/locker.env");
    ok('echo "<!-- next release -->" >> /src/README.md');
    const update = ok('/src/systemd/install.sh 2>&1', 900_000);
    const next = /install: link \/opt\/locker\/app -> (\S+)/.exec(update)?.[1];
    expect(next, update).toBeDefined();
    expect(next).not.toBe(release);
    expect(update).toMatch(new RegExp(`install: backup /var/lib/locker/backups/before-${next!.split('/').pop()}\\.db`));
    expect(update).toMatch(/backup written: .*\(\d+ bytes, \d+ audit events, chain ok/);
    expect(ok('readlink /opt/locker/previous').trim()).toBe(release);
    expect(ok('grep ^LOCKER_ID= /etc/locker/locker.env').trim()).toBe('LOCKER_ID=hcm-q1-07');
    expect(ok('stat -c "%a %U" /var/lib/locker/backups/*.db').trim()).toBe('600 locker');
    expect(ok('locker audit verify 2>&1')).toMatch(/audit chain ok: \d+ events/);
    expect(update).toContain(`Its SHA-256 fingerprint: ${fingerprint}`);

    // --- a lost server certificate is issued again from the same CA ---
    ok('rm /etc/locker/tls/server.crt');
    const reissue = ok('/src/systemd/install.sh --no-start 2>&1');
    expect(reissue).toMatch(/install: issue server certificate \/etc\/locker\/tls\/server\.crt .* from the existing CA/);
    expect(reissue).not.toContain('make local CA');
    expect(reissue).toContain(`Its SHA-256 fingerprint: ${fingerprint}`);
    ok('openssl verify -CAfile /etc/locker/tls/ca.crt /etc/locker/tls/server.crt');

    // --- uninstall keeps data, config and users ---
    const off = ok('/src/systemd/install.sh --uninstall 2>&1');
    expect(off).toContain('kept /var/lib/locker');
    expect(sh('test -e /opt/locker || test -e /etc/systemd/system/locker.service || test -e /etc/systemd/system/multi-user.target.wants/locker.service || test -e /usr/local/bin/locker').code).toBe(1);
    ok('test -s /var/lib/locker/locker.db && test -s /var/lib/locker/secrets.json && id locker && grep -q hcm-q1-07 /etc/locker/locker.env');

    // --- purge removes the rest ---
    ok('/src/systemd/install.sh --uninstall --purge 2>&1');
    expect(sh('test -e /var/lib/locker || test -e /etc/locker || id locker || id locker-kiosk').code).toBe(1);
  }, 1_500_000);
});
