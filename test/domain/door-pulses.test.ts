// The lock rules end to end: one lock energised at a time however many unlocks arrive together,
// every relay locked at start and stop, and no door opening by itself after a restart.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimRelayRecord } from '../../firmware-bridge/sim-driver.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_MAP_PATH } from '../../locker-map/load.ts';

let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

function energisedAtOnce(log: SimRelayRecord[]): number {
  let live = 0;
  let max = 0;
  const on = new Set<number>();
  for (const r of log) {
    if (r.energised) on.add(r.compartment);
    else on.delete(r.compartment);
    live = on.size;
    max = Math.max(max, live);
  }
  return max;
}

describe('lock pulses', () => {
  it('energises one lock at a time, with the gap between pulses, when 20 citizens collect at once', async () => {
    const dataDir = tempDir();
    const map = JSON.parse(readFileSync(EXAMPLE_MAP_PATH, 'utf8'));
    map.locks = { pulseMs: 30, gapMs: 20 };
    writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));
    t = await startLocker({ dataDir });
    const staff = await t.login('staff');
    const people = Array.from({ length: 20 }, (_, i) => ({ phone: `09123456${String(i).padStart(2, '0')}`, code: `C-${i}` }));
    const doors: number[] = [];
    for (const p of people) doors.push(await loadDossier(t, staff, p.code, p.phone, 'S'));
    const codes = people.map((p) => t!.codeFor(p.phone));
    await vi.waitFor(() => expect(t!.sim.energised()).toEqual([]));
    const before = t.sim.relayLog.length;

    const replies = await Promise.all(people.map((p, i) => t!.api('POST', '/api/v1/pickups', { phone: p.phone, code: codes[i] })));
    expect(replies.map((r) => r.status)).toEqual(people.map(() => 200));
    await vi.waitFor(() => expect(t!.sim.relayLog.length - before).toBeGreaterThanOrEqual(40), { timeout: 10_000 });
    const log = t.sim.relayLog.slice(before);
    expect(log.filter((r) => r.energised).map((r) => r.compartment).sort((a, b) => a - b)).toEqual([...doors].sort((a, b) => a - b));
    expect(energisedAtOnce(log)).toBe(1);
    for (let i = 0; i + 1 < log.length; i += 2) {
      expect(log[i]).toMatchObject({ energised: true });
      expect(log[i + 1]).toMatchObject({ energised: false, compartment: log[i].compartment });
      expect(log[i + 1].at - log[i].at).toBeGreaterThanOrEqual(30 - 1);
      if (i >= 2) expect(log[i].at - log[i - 1].at).toBeGreaterThanOrEqual(20 - 1);
    }
  });

  it('locks every relay at start and at stop, and a restart in the middle of a queue of unlocks opens no door by itself', async () => {
    const dataDir = tempDir();
    const map = JSON.parse(readFileSync(EXAMPLE_MAP_PATH, 'utf8'));
    map.locks = { pulseMs: 200, gapMs: 100 };
    writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));
    t = await startLocker({ dataDir, keepDir: true });
    const atStart = t.sim.relayLog.slice(0, 24);
    expect(atStart.every((r) => !r.energised)).toBe(true);
    expect(new Set(atStart.map((r) => r.compartment)).size).toBe(24);

    // Five clerks register at once: five pulses queue up behind each other; the service stops mid-queue.
    const regs = [1, 2, 3, 4, 5].map((i) => t!.locker.ctx.dossiers.register('staff:clerk', { code: `Q-${i}`, phone: '0912345678', size: 'M' }));
    const outcomes = Promise.allSettled(regs);
    await new Promise((r) => setTimeout(r, 250));
    const sim = t.sim;
    await t.locker.stop();
    const settled = await outcomes;
    const last24 = sim.relayLog.slice(-24);
    expect(last24.every((r) => !r.energised)).toBe(true);
    expect(sim.energised()).toEqual([]);
    const pulsed = sim.relayLog.filter((r) => r.energised).length;
    expect(pulsed).toBeGreaterThan(0);
    expect(pulsed).toBeLessThan(5);
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused.length).toBe(5 - pulsed);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ status: 503, code: 'door_fault' });

    // After the restart nothing is energised that nobody asked for.
    t = await t.restart();
    await new Promise((r) => setTimeout(r, 500));
    expect(t.sim.relayLog.filter((r) => r.energised)).toEqual([]);
    // A pulse refused because the service was stopping is no fault of the lock: the compartments serve again.
    const staff = await t.login('staff');
    const list = (await t.api('GET', '/api/v1/compartments', undefined, staff)).body.compartments;
    expect(list.filter((c: { status: string }) => c.status === 'fault')).toEqual([]);
  });
});
