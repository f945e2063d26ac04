import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { realTimers } from '../../firmware-bridge/pulse-sequencer.ts';
import { runCli } from '../../server/cli/locker.ts';
import { runHwCli } from '../../server/cli/hw.ts';
import { openDatabase } from '../../server/db/database.ts';
import { fastMap, loadDossier, startLocker, tempDir } from '../helpers/locker.ts';
import { PoppingBus } from './popping-bus.ts';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdin: new PassThrough(), stdout, stderr }, out: () => out, err: () => err };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('npx locker hw', () => {
  it('boot-config prints the config.txt lines for the configured map', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const o = io();
    const code = await runCli(['hw', 'boot-config'], o.io);
    expect(code).toBe(0);
    expect(o.out()).toMatch(/^gpio=5,6,12,13,16,19,20,21=op,dh$/m);
    expect(o.out()).toMatch(/^dtoverlay=mcp23017,addr=0x21,gpiopin=22$/m);
  });

  it('test refuses the simulator: there is no hardware to test', async () => {
    const o = io();
    const code = await runHwCli(['test'], o.io, { env: { LOCKER_DOORS: 'sim', LOCKER_DATA_DIR: '/nonexistent/never-created' } });
    expect(code).toBe(1);
    expect(o.err()).toMatch(/LOCKER_DOORS=sim has no hardware to test/);
  });

  it('test leaves a door holding a dossier shut, records every pulse in the audit trail, and fails when a door did not open', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    fastMap(dataDir);
    const t = await startLocker({ dataDir });
    const token = await t.login('staff');
    const held = await loadDossier(t, token, 'H29-0001', '0912345678', 'S');
    await t.locker.stop();

    let bus: PoppingBus | null = null;
    const o = io();
    const env = { LOCKER_DATA_DIR: dataDir, LOCKER_MAP: `${dataDir}/map.json`, LOCKER_DOORS: 'gpiod' };
    const code = await runHwCli(['test', '--only', `${held},2,3`, '--wait', '2'], o.io, {
      env,
      createBus: async (_config, map) => {
        bus = new PoppingBus(map.compartments.map((c) => c.number), realTimers, 30, 60);
        bus.jammed.add(3);
        return bus;
      },
    });
    expect(code).toBe(3);
    expect(o.out()).toMatch(new RegExp(`^${held} .*SKIPPED: holds dossier H29-0001`, 'm'));
    expect(o.out()).toMatch(/^2 .*yes\s+ok$/m);
    expect(o.out()).toMatch(/^3 .*DID NOT OPEN/m);
    expect(bus!.relayLog.filter((r) => r.energised).map((r) => r.compartment)).toEqual([2, 3]);

    const db = openDatabase(dataDir);
    const pulses = db.prepare(`SELECT compartment, actor, data FROM audit_events WHERE type = 'door.test_pulse' ORDER BY seq`).all() as any[];
    db.close();
    expect(pulses.map((p) => [p.compartment, p.actor, JSON.parse(p.data).tool])).toEqual([
      [2, 'system', 'locker hw test'],
      [3, 'system', 'locker hw test'],
    ]);
    const verify = io();
    process.env.LOCKER_DATA_DIR = dataDir;
    try {
      expect(await runCli(['audit', 'verify'], verify.io)).toBe(0);
    } finally {
      delete process.env.LOCKER_DATA_DIR;
    }
  });

  it('test names an unknown compartment in --only', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const o = io();
    const code = await runHwCli(['test', '--only', '99'], o.io, { env: { LOCKER_DATA_DIR: dataDir, LOCKER_DOORS: 'gpiod' } });
    expect(code).toBe(1);
    expect(o.err()).toMatch(/--only: no compartment 99/);
  });
});
