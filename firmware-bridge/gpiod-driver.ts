// Doors through the GPIO character device, via Debian's `gpiod` tools (gpioset, gpioget,
// gpiomon, gpiodetect), for Raspberry Pi OS trixie (no sysfs GPIO) and bookworm alike. No
// native addon. A line keeps its value only while a process holds it, so every relay line has a
// `gpioset` holding it at the locked level for as long as the service runs; a pulse replaces that
// holder with a script that ends the pulse on its own and then holds the line locked again.
import { DriverUnavailableError } from './errors.ts';
import {
  PULSE_EXIT,
  getArgs,
  holdArgs,
  monArgs,
  parseDetect,
  parseGetOutput,
  parseMonLine,
  parseToolVersion,
  pulseCommand,
  type Dialect,
} from './gpiod-cli.ts';
import { HardwareDoorBus, type BusLog, type HardwareOptions } from './hardware-bus.ts';
import { groupBy, lineName, type BankLines, type LockLineDef, type SensorLineDef } from './lines.ts';
import { LongProcess, ToolMissingError, runTool } from './processes.ts';
import { HEADER_LABELS, resolveExpanderCharDevs } from './sysfs.ts';

export interface GpiodOptions extends HardwareOptions {
  sysfsRoot: string;
  /** Environment of the tools (PATH): tests put stand-ins first. */
  env?: NodeJS.ProcessEnv;
  /** libgpiod 1.6 prints nothing once a line is held: a holder counts as up after this long. */
  settleMs?: number;
  /** Longest wait for a tool to answer. */
  toolTimeoutMs?: number;
}

const TOOLS = ['gpioset', 'gpioget', 'gpiomon', 'gpiodetect'] as const;
const INSTALL = 'install them with `sudo apt install gpiod`';
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;

interface Ctx {
  dialect: Dialect;
  env: NodeJS.ProcessEnv;
  settleMs: number;
  log: BusLog;
}

function busyHint(stderr: string): string {
  if (/busy/i.test(stderr)) return ' (the line is held by another program: a locker that did not stop cleanly, or a kernel driver; `gpioinfo` names the holder)';
  if (/permission denied/i.test(stderr)) return ' (no permission: add the service user to group "gpio", and under systemd do not set PrivateDevices=yes)';
  if (/no such file/i.test(stderr)) return ' (no such chip: check `gpiodetect`)';
  return '';
}

/** One relay line and the process that holds it. */
class RelayLine {
  private proc: LongProcess | null = null;
  private pulsing = false;
  private closed = false;
  private restartMs = RESTART_MIN_MS;

  constructor(
    private readonly ctx: Ctx,
    readonly def: LockLineDef,
    private readonly chip: string,
  ) {}

  get name(): string {
    return lineName(this.def.chip, this.def.offset);
  }

  async hold(): Promise<void> {
    const p = this.watch(new LongProcess('gpioset', holdArgs(this.ctx.dialect, this.chip, this.def.offset, this.def.lockedValue), this.ctx.env));
    this.proc = p;
    try {
      if (this.ctx.dialect === 2) await p.waitUntil(() => p.lines.some((l) => l.startsWith('Setting line')), 5000, `holding relay ${this.name}`);
      else await p.staysUp(this.ctx.settleMs, `holding relay ${this.name}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}${busyHint(p.stderr)}`);
    }
  }

  /** Replaces the holder with the pulse script; resolves once the line is energised. */
  async energise(pulseMs: number): Promise<void> {
    await this.release();
    const { cmd, args } = pulseCommand(this.ctx.dialect, this.chip, this.def.offset, this.def.activeValue, this.def.lockedValue, pulseMs);
    const p = this.watch(new LongProcess(cmd, args, this.ctx.env));
    this.proc = p;
    this.pulsing = true;
    const failed = () => {
      const exit = p.lines.find((l) => l.startsWith(PULSE_EXIT));
      if (exit && exit !== `${PULSE_EXIT} 0`) throw new Error(`pulse on relay ${this.name} failed: gpioset ${p.stderr.trim() || exit}${busyHint(p.stderr)}`);
      return false;
    };
    if (this.ctx.dialect === 2) {
      await p.waitUntil(() => failed() || p.lines.some((l) => l.startsWith('Setting line')), 5000, `pulse on relay ${this.name}`);
    } else {
      // 1.6 says nothing when the line is set; a failed request exits at once.
      await Promise.race([
        p.staysUp(Math.min(this.ctx.settleMs, pulseMs / 2), `pulse on relay ${this.name}`),
        p.waitUntil(failed, pulseMs, `pulse on relay ${this.name}`).catch(() => undefined),
      ]);
      failed();
    }
  }

  /** After the pulse: waits until the script holds the line locked again; re-holds it if not. */
  async relocked(boundMs: number): Promise<void> {
    const p = this.proc;
    try {
      if (!p) throw new Error('no process');
      await p.waitUntil(() => p.lines.some((l) => l.startsWith(PULSE_EXIT)), boundMs, `end of pulse on ${this.name}`);
      const i = p.lines.findIndex((l) => l.startsWith(PULSE_EXIT));
      if (this.ctx.dialect === 2) {
        await p.waitUntil(() => p.lines.slice(i + 1).some((l) => l.startsWith('Setting line')), 5000, `holding relay ${this.name}`);
      } else {
        await p.staysUp(this.ctx.settleMs, `holding relay ${this.name}`);
      }
      this.pulsing = false;
    } catch (err) {
      this.pulsing = false;
      this.ctx.log.error({ line: this.name, err: (err as Error).message }, 'relay did not return to its hold: holding it afresh');
      await this.release(0);
      await this.hold();
    }
  }

  async release(graceMs = 1000): Promise<void> {
    const p = this.proc;
    this.proc = null;
    await p?.stop(graceMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.release();
  }

  /**
   * Exit hook: an idle holder is stopped (the line is released at its locked level); a pulse
   * script in progress is left alone: it ends the pulse itself and holds the line locked.
   */
  releaseSync(): void {
    this.closed = true;
    if (!this.pulsing) this.proc?.signal('SIGTERM');
  }

  private watch(p: LongProcess): LongProcess {
    void p.done.then(() => {
      if (p.stopping || this.closed || this.proc !== p) return;
      // Someone killed our holder: the line may float. Take it back.
      this.ctx.log.error({ line: this.name, why: p.describeExit() }, 'relay holder stopped unexpectedly');
      this.proc = null;
      const wait = this.restartMs;
      this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
      setTimeout(() => {
        if (this.closed || this.proc) return;
        this.hold().then(
          () => (this.restartMs = RESTART_MIN_MS),
          (err) => this.ctx.log.error({ line: this.name, err: (err as Error).message }, 'relay could not be held again'),
        );
      }, wait).unref();
    });
    return p;
  }
}

export class GpiodDoorBus extends HardwareDoorBus {
  readonly driver = 'gpiod';
  private readonly sysfsRoot: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly settleMs: number;
  private readonly toolTimeoutMs: number;
  private ctx: Ctx | null = null;
  private readonly relays = new Map<number, RelayLine>();
  private monitors: LongProcess[] = [];
  private generation = 0;
  /** libgpiod version in use, for health and `hw test`. */
  version = '';

  constructor(bank: BankLines, opts: GpiodOptions) {
    super(bank, opts);
    this.sysfsRoot = opts.sysfsRoot;
    this.env = opts.env ?? process.env;
    this.settleMs = opts.settleMs ?? 150;
    this.toolTimeoutMs = opts.toolTimeoutMs ?? 3000;
  }

  async start(): Promise<void> {
    const dialect = await this.checkTools();
    const chipNames = await this.resolveChips();
    const ctx: Ctx = { dialect, env: this.env, settleMs: this.settleMs, log: this.log };
    this.ctx = ctx;

    // Relays first, before anything else touches the hardware: each held at its locked level.
    for (const l of this.bank.locks) this.relays.set(l.compartment, new RelayLine(ctx, l, chipNames.get(l.chip)!));
    const held = await Promise.allSettled([...this.relays.values()].map((r) => r.hold()));
    const failed = held.flatMap((h, i) => (h.status === 'rejected' ? [`${[...this.relays.values()][i].name}: ${(h.reason as Error).message}`] : []));
    if (failed.length > 0) {
      await Promise.all([...this.relays.values()].map((r) => r.close()));
      this.relays.clear();
      throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: cannot hold the relay lines locked: ${failed.join('; ')}`);
    }
    this.armCrashGuard(() => {
      for (const r of this.relays.values()) r.releaseSync();
      for (const m of this.monitors) m.signal('SIGTERM');
    });

    const generation = ++this.generation;
    const groups = groupBy(this.bank.sensors, (s) => `${s.chip}\u0000${s.bias}`);
    const starts: Promise<void>[] = [];
    for (const sensors of groups.values()) {
      const chip = this.bank.chips.get(sensors[0].chip)!;
      const name = chipNames.get(chip.id)!;
      if (chip.edges) starts.push(this.monitor(generation, name, sensors, true));
      else starts.push(this.readOnce(name, sensors, true).then(() => this.poll(generation, name, sensors)));
    }
    await Promise.all(starts);
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.generation++;
    await this.sequencer.close();
    for (const t of this.trackers.values()) t.stop();
    await Promise.all(this.monitors.map((m) => m.stop()));
    this.monitors = [];
    // The holders keep every line locked up to the last moment; releasing leaves it at that level.
    await Promise.all([...this.relays.values()].map((r) => r.close()));
    this.relays.clear();
    this.disarmCrashGuard();
  }

  protected async setRelay(compartment: number, energised: boolean): Promise<void> {
    const relay = this.relays.get(compartment);
    if (!relay) throw new Error(`relay of compartment ${compartment} is not held`);
    if (energised) await relay.energise(this.sequencer.pulseMs);
    else await relay.relocked(this.sequencer.pulseMs + 3000);
  }

  private async checkTools(): Promise<Dialect> {
    const versions = await Promise.all(
      TOOLS.map(async (tool) => {
        try {
          const r = await runTool(tool, ['--version'], this.env, this.toolTimeoutMs);
          return { tool, v: parseToolVersion(r.stdout + r.stderr) };
        } catch (err) {
          if (err instanceof ToolMissingError) {
            throw new DriverUnavailableError(`LOCKER_DOORS=gpiod needs Debian's gpiod tools: ${tool} is not installed; ${INSTALL}`);
          }
          throw err;
        }
      }),
    );
    const bad = versions.find((x) => !x.v);
    if (bad) throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: cannot tell which libgpiod ${bad.tool} is (\`${bad.tool} --version\`); ${INSTALL}`);
    const majors = new Set(versions.map((x) => x.v!.major));
    if (majors.size > 1) throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: the gpiod tools mix libgpiod versions (${versions.map((x) => `${x.tool} ${x.v!.text}`).join(', ')})`);
    const v = versions[0].v!;
    if (v.major === 1 && v.minor < 5) {
      throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: libgpiod ${v.text} cannot set pull resistors; 1.5 or newer is needed (${INSTALL})`);
    }
    if (v.major !== 1 && v.major !== 2) throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: libgpiod ${v.text} is not supported (1.6 or 2.x)`);
    this.version = v.text;
    this.log.info({ libgpiod: v.text }, 'gpiod tools found');
    return v.major as Dialect;
  }

  /** The gpiochipN name of every chip the map uses. */
  private async resolveChips(): Promise<Map<string, string>> {
    const used = new Set([...this.bank.locks.map((l) => l.chip), ...this.bank.sensors.map((s) => s.chip)]);
    const chips = [...used].map((id) => this.bank.chips.get(id)!);
    const out = resolveExpanderCharDevs(this.sysfsRoot, chips);
    if (used.has('header')) {
      const r = await runTool('gpiodetect', [], this.env, this.toolTimeoutMs);
      if (r.code !== 0) throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: gpiodetect failed: ${r.stderr}${busyHint(r.stderr)}`);
      const all = parseDetect(r.stdout);
      const header = all.filter((c) => c.label in HEADER_LABELS);
      if (header.length !== 1) {
        const seen = all.map((c) => `${c.name} [${c.label}]`).join(', ') || 'none (is /dev/gpiochip* readable by this user?)';
        throw new DriverUnavailableError(
          `LOCKER_DOORS=gpiod: ${header.length === 0 ? 'no' : 'more than one'} Raspberry Pi header GPIO chip ` +
            `(label ${Object.keys(HEADER_LABELS).join(', ')}); gpiodetect lists: ${seen}`,
        );
      }
      out.set('header', header[0].name);
    }
    return out;
  }

  /** One gpioget for a group of sensors on one chip; `initial` sets the state without events. */
  private async readOnce(chip: string, sensors: SensorLineDef[], initial: boolean): Promise<boolean> {
    const offsets = sensors.map((s) => s.offset);
    let reason: string;
    try {
      const r = await runTool('gpioget', getArgs(this.ctx!.dialect, chip, offsets, sensors[0].bias), this.env, this.toolTimeoutMs);
      if (r.code === 0) {
        const values = parseGetOutput(r.stdout, offsets);
        sensors.forEach((s, i) => {
          const t = this.trackers.get(s.compartment)!;
          if (initial) t.init(values[i]);
          else t.sample(values[i]);
        });
        return true;
      }
      reason = `gpioget failed: ${r.stderr || `exit code ${r.code}`}${busyHint(r.stderr)}`;
    } catch (err) {
      reason = `gpioget failed: ${(err as Error).message}`;
    }
    for (const s of sensors) {
      const t = this.trackers.get(s.compartment)!;
      if (initial) t.init(null);
      else t.fail(reason);
    }
    if (initial) this.log.error({ chip, lines: offsets, err: reason }, 'door sensors cannot be read');
    return false;
  }

  /** A chip without edge interrupts: read every pollMs, never two reads at once. */
  private poll(generation: number, chip: string, sensors: SensorLineDef[]): void {
    const tick = () => {
      if (generation !== this.generation) return;
      void this.readOnce(chip, sensors, false).finally(() => {
        if (generation === this.generation) this.timers.setTimeout(tick, this.pollMs);
      });
    };
    this.timers.setTimeout(tick, this.pollMs);
  }

  /** A chip with edge interrupts: read once, then gpiomon reports every edge. Restarted if it dies. */
  private async monitor(generation: number, chip: string, sensors: SensorLineDef[], initial: boolean, backoffMs = RESTART_MIN_MS): Promise<void> {
    if (generation !== this.generation) return;
    await this.readOnce(chip, sensors, initial);
    if (generation !== this.generation) return;
    const byOffset = new Map(sensors.map((s) => [s.offset, this.trackers.get(s.compartment)!]));
    const mon = new LongProcess('gpiomon', monArgs(this.ctx!.dialect, chip, sensors.map((s) => s.offset), sensors[0].bias), this.env, (line) => {
      const ev = parseMonLine(line);
      if (ev) byOffset.get(ev.offset)?.sample(ev.level);
    });
    const since = Date.now();
    this.monitors.push(mon);
    // Start counts as done once the lines are watched: an edge right after start is not lost.
    const ready =
      this.ctx!.dialect === 2
        ? mon.waitUntil(() => mon.lines.some((l) => l.startsWith('Monitoring line')), 5000, `gpiomon on ${chip}`)
        : mon.staysUp(this.settleMs, `gpiomon on ${chip}`);
    void mon.done.then(() => {
      this.monitors = this.monitors.filter((m) => m !== mon);
      if (mon.stopping || generation !== this.generation) return;
      const reason = `gpiomon ${mon.describeExit()}${busyHint(mon.stderr)}`;
      this.log.error({ chip, err: reason }, 'door sensor monitor stopped: restarting it');
      for (const t of byOffset.values()) t.fail(reason);
      // A monitor that ran for a while starts the back-off afresh; one that keeps dying waits longer.
      const wait = Date.now() - since > 5000 ? RESTART_MIN_MS : backoffMs;
      setTimeout(() => void this.monitor(generation, chip, sensors, false, Math.min(wait * 2, RESTART_MAX_MS)), wait).unref();
    });
    // A monitor that will not start is reported (and retried) through its exit above.
    await ready.catch((err: Error) => this.log.error({ chip, err: err.message }, 'door sensor monitor did not start'));
  }
}
