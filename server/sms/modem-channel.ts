// An LTE modem (SIM7600 class) on a serial device, spoken to with AT commands in PDU mode.
// The port is opened in the background and reopened whenever it closes or vanishes (USB replug,
// modem reboot); a modem that stops answering is closed and reopened too. Health (SIM, network
// registration, signal) is polled and reported; status reports (+CDS) become delivery reports.
import type { Logger } from 'pino';
import type { Scheduler, SmsMessage } from '../domain/ports.ts';
import { maskPhone } from '../domain/phone.ts';
import { AtClosedError, AtError, AtSession, AtTimeoutError } from './at-session.ts';
import type { ChannelHealth, DeliveryReport, ExtendedSmsChannel, SendContext, SendResult } from './channel.ts';
import { SmsSendError } from './http-channel.ts';
import { buildSubmitPdus, deliveryOutcome, parseStatusReport } from './pdu.ts';

export interface ModemOptions {
  device: string;
  baudRate: number;
  scheduler: Scheduler;
  log: Logger;
  /** A serialport binding (tests pass @serialport/binding-mock); default: the platform's. */
  binding?: unknown;
  commandTimeoutMs?: number;
  promptTimeoutMs?: number;
  /** After the PDU: the network may take a while to accept it. */
  sendTimeoutMs?: number;
  checkEveryMs?: number;
  /** Waits between reopen attempts; the last one repeats. */
  reopenMs?: number[];
  /** Consecutive unanswered commands after which the port is closed and reopened. */
  reopenAfterTimeouts?: number;
}

type SimState = 'ready' | 'absent' | 'locked' | 'unknown';
type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'not_registered' | 'unknown';

interface SerialLike {
  write(data: string | Buffer): boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  on(event: string, fn: (...args: any[]) => void): unknown;
  removeAllListeners(): unknown;
  readonly isOpen: boolean;
}

const REGISTRATION: Record<string, Registration> = { '0': 'not_registered', '1': 'home', '2': 'searching', '3': 'denied', '5': 'roaming' };

export class ModemSmsChannel implements ExtendedSmsChannel {
  readonly name = 'modem';
  readonly reportsHandover = true;
  readonly idempotent = false;

  private port: SerialLike | null = null;
  private readonly session: AtSession;
  private stopped = true;
  private connecting: Promise<void> | null = null;
  private cancelRetry: (() => void) | null = null;
  private cancelCheck: (() => void) | null = null;
  private reopenIndex = 0;
  private ready = false;
  private timeouts = 0;
  private reports = false;
  private sim: SimState = 'unknown';
  private registration: Registration = 'unknown';
  private signal: { rssi: number; dbm: number | null } | null = null;
  private operator: string | null = null;
  private lastCheckAt: number | null = null;
  private downReason = 'modem not connected yet';
  private lastHealthKey = '';
  private readonly healthListeners = new Set<(h: ChannelHealth) => void>();
  private readonly deliveryListeners = new Set<(r: DeliveryReport) => void>();
  private readonly log: Logger;

  constructor(private readonly o: ModemOptions) {
    this.log = o.log;
    this.session = new AtSession({ write: (d) => this.write(d) }, o.scheduler, (line, pdu) => this.urc(line, pdu), o.commandTimeoutMs ?? 5000);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connectSoon(0);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelCheck?.();
    this.cancelRetry = this.cancelCheck = null;
    // Fail what is in flight first: a connect waiting on a deaf modem must not hold the shutdown.
    this.session.close(new AtClosedError('modem channel stopped'));
    await this.connecting?.catch(() => undefined);
    await this.closePort();
  }

  available(): boolean {
    return this.ready && this.sim !== 'absent' && this.sim !== 'locked' && this.registration !== 'denied' && this.registration !== 'not_registered' && this.registration !== 'searching';
  }

  health(): ChannelHealth {
    let state: ChannelHealth['state'] = 'ok';
    let reason: string | undefined;
    if (!this.ready) {
      state = 'down';
      reason = this.downReason;
    } else if (this.sim !== 'ready' && this.sim !== 'unknown') {
      state = 'degraded';
      reason = this.sim === 'absent' ? 'no SIM card' : 'SIM locked (PIN)';
    } else if (!this.available()) {
      state = 'degraded';
      reason = `not registered on the network (${this.registration})`;
    } else if (this.signal && (this.signal.dbm === null || this.signal.rssi < 5)) {
      state = 'degraded';
      reason = 'weak or no signal';
    }
    return {
      state,
      ...(reason ? { reason } : {}),
      device: this.o.device,
      connected: this.ready,
      sim: this.sim,
      registration: this.registration,
      signal: this.signal,
      operator: this.operator,
      deliveryReports: this.reports,
      lastCheckAt: this.lastCheckAt === null ? null : new Date(this.lastCheckAt).toISOString(),
    };
  }

  onHealthChange(fn: (h: ChannelHealth) => void): () => void {
    this.healthListeners.add(fn);
    return () => this.healthListeners.delete(fn);
  }

  onDelivery(fn: (r: DeliveryReport) => void): () => void {
    this.deliveryListeners.add(fn);
    return () => this.deliveryListeners.delete(fn);
  }

  async send(message: SmsMessage, ctx?: SendContext): Promise<SendResult> {
    if (!this.ready) throw new SmsSendError(`modem unavailable: ${this.downReason}`);
    let parts;
    try {
      parts = buildSubmitPdus({ to: message.to, text: message.text, ref: ctx?.ref ?? Math.floor(Math.random() * 256), statusReport: this.reports }).parts;
    } catch (err) {
      throw new SmsSendError(`cannot encode the message: ${(err as Error).message}`);
    }
    const refs: string[] = [];
    for (const [i, part] of parts.entries()) {
      let lines: string[];
      try {
        lines = await this.session.prompted(`AT+CMGS=${part.tpduLength}`, `${part.hex}\x1a`, {
          expect: '+CMGS:',
          promptTimeoutMs: this.o.promptTimeoutMs ?? 10_000,
          timeoutMs: this.o.sendTimeoutMs ?? 120_000,
          beforePayload: i === 0 ? () => ctx?.handover() : undefined,
        });
      } catch (err) {
        this.noteFailure(err);
        const what = parts.length > 1 ? `part ${i + 1} of ${parts.length}: ` : '';
        throw new SmsSendError(`modem: ${what}${(err as Error).message}`);
      }
      this.timeouts = 0;
      const mr = /\+CMGS:\s*(\d+)/.exec(lines[0] ?? '');
      refs.push(mr ? mr[1] : '');
    }
    this.log.info({ to: maskPhone(message.to), parts: parts.length, refs }, 'SMS handed to the network');
    return { refs: refs.filter(Boolean) };
  }

  // ---- port and reconnection ----

  private write(data: string | Buffer): void {
    if (!this.port || !this.port.isOpen) throw new AtClosedError('modem port is not open');
    this.port.write(data);
  }

  private connectSoon(ms: number): void {
    if (this.stopped) return;
    this.cancelRetry?.();
    this.cancelRetry = this.o.scheduler.after(ms, () => {
      this.cancelRetry = null;
      if (this.stopped || this.connecting) return;
      this.connecting = this.connect().finally(() => {
        this.connecting = null;
      });
    });
  }

  private async connect(): Promise<void> {
    try {
      await this.openPort();
      await this.initialise();
      this.reopenIndex = 0;
      this.log.info({ device: this.o.device, reports: this.reports }, 'modem ready');
      this.scheduleCheck();
    } catch (err) {
      this.ready = false;
      this.downReason = describeOpenError(err);
      await this.closePort();
      this.emitHealth();
      const waits = this.o.reopenMs ?? [1000, 2000, 5000, 10_000, 30_000];
      const wait = waits[Math.min(this.reopenIndex++, waits.length - 1)];
      this.log.warn({ device: this.o.device, reason: this.downReason, retryInMs: wait }, 'modem not available');
      this.connectSoon(wait);
    }
  }

  private async openPort(): Promise<void> {
    const { SerialPort } = await import('serialport');
    const options: Record<string, unknown> = { path: this.o.device, baudRate: this.o.baudRate, autoOpen: false };
    if (this.o.binding) options.binding = this.o.binding;
    const port = new SerialPort(options as unknown as ConstructorParameters<typeof SerialPort>[0]) as unknown as SerialLike;
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    if (this.stopped) {
      await new Promise<void>((r) => port.close(() => r()));
      throw new AtClosedError('modem channel stopped');
    }
    this.port = port;
    this.session.reopen();
    port.on('data', (d: Buffer) => this.session.feed(d));
    port.on('error', (err: Error) => this.log.warn({ err: err.message }, 'modem port error'));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.port !== port) return;
      this.port = null;
      this.lost(err?.disconnected ? 'modem disconnected' : 'modem port closed');
    });
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (!port) return;
    port.removeAllListeners();
    port.on('error', () => undefined);
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /** The port closed under us (unplugged) or we gave up on it: fail what is in flight and reopen. */
  private lost(reason: string): void {
    const was = this.ready;
    this.ready = false;
    this.downReason = reason;
    this.cancelCheck?.();
    this.cancelCheck = null;
    this.session.close(new AtClosedError(reason));
    if (was) this.log.error({ device: this.o.device, reason }, 'modem lost');
    this.emitHealth();
    if (!this.stopped) this.connectSoon(0);
  }

  private async initialise(): Promise<void> {
    // A modem just plugged in may still be booting: give AT a few tries.
    let ok = false;
    for (let i = 0; i < 3 && !ok; i++) {
      try {
        await this.session.command('AT', { timeoutMs: this.o.commandTimeoutMs ?? 5000 });
        ok = true;
      } catch (err) {
        if (!(err instanceof AtTimeoutError)) throw err;
      }
    }
    if (!ok) throw new AtTimeoutError('AT', this.o.commandTimeoutMs ?? 5000);
    await this.session.command('ATE0');
    await this.session.command('AT+CMEE=1');
    await this.session.command('AT+CMGF=0');
    try {
      // Status reports routed to us as +CDS (PDU mode); nothing stored on the SIM.
      await this.session.command('AT+CNMI=2,1,0,1,0');
      this.reports = true;
    } catch (err) {
      if (!(err instanceof AtError)) throw err;
      this.reports = false;
      this.log.warn('modem refuses status reports (AT+CNMI); delivery will show as sent only');
    }
    this.timeouts = 0;
    // Usable only once SIM and network have been looked at, so nothing is sent into a modem without a SIM.
    await this.probe();
    this.ready = true;
    this.emitHealth();
  }

  private scheduleCheck(): void {
    this.cancelCheck?.();
    this.cancelCheck = this.o.scheduler.after(this.o.checkEveryMs ?? 60_000, () => {
      this.cancelCheck = null;
      void this.check().finally(() => {
        if (this.ready && !this.stopped) this.scheduleCheck();
      });
    });
  }

  /** SIM, registration (LTE first: 2G is off in Vietnam), signal and operator. */
  async check(): Promise<void> {
    if (!this.ready) return;
    try {
      await this.probe();
    } catch (err) {
      this.noteFailure(err);
    }
    this.emitHealth();
  }

  private async probe(): Promise<void> {
    this.sim = await this.readSim();
    const eps = await this.readRegistration('AT+CEREG?', '+CEREG:');
    const cs = eps === 'home' || eps === 'roaming' ? eps : await this.readRegistration('AT+CREG?', '+CREG:');
    this.registration = eps === 'home' || eps === 'roaming' ? eps : cs !== 'unknown' ? cs : eps;
    const csq = await this.optional('AT+CSQ', '+CSQ:');
    const m = csq && /\+CSQ:\s*(\d+)\s*,/.exec(csq);
    if (m) {
      const rssi = Number(m[1]);
      this.signal = { rssi, dbm: rssi === 99 ? null : -113 + 2 * Math.min(rssi, 31) };
    }
    const cops = await this.optional('AT+COPS?', '+COPS:');
    const op = cops && /"([^"]*)"/.exec(cops);
    this.operator = op ? op[1] : null;
    this.lastCheckAt = Date.now();
    this.timeouts = 0;
  }


  private async readSim(): Promise<SimState> {
    try {
      const lines = await this.session.command('AT+CPIN?', { expect: '+CPIN:' });
      const v = (lines[0] ?? '').replace('+CPIN:', '').trim();
      return v === 'READY' ? 'ready' : v ? 'locked' : 'unknown';
    } catch (err) {
      if (err instanceof AtError) return /CME ERROR: (10|13|SIM not inserted|SIM failure)/i.test(err.result) ? 'absent' : 'unknown';
      throw err;
    }
  }

  private async readRegistration(command: string, prefix: string): Promise<Registration> {
    const line = await this.optional(command, prefix);
    const m = line && /:\s*\d+\s*,\s*(\d+)/.exec(line);
    return m ? (REGISTRATION[m[1]] ?? 'unknown') : 'unknown';
  }

  /** A query some firmwares refuse: an ERROR means "unknown", a timeout still counts. */
  private async optional(command: string, prefix: string): Promise<string | null> {
    try {
      return (await this.session.command(command, { expect: prefix }))[0] ?? null;
    } catch (err) {
      if (err instanceof AtError) return null;
      throw err;
    }
  }

  private noteFailure(err: unknown): void {
    if (!(err instanceof AtTimeoutError) || !this.ready) return;
    this.timeouts++;
    this.downReason = 'modem not answering';
    if (this.timeouts >= (this.o.reopenAfterTimeouts ?? 2)) {
      // The device is still there but deaf (wedged firmware, modem rebooting): start over.
      this.log.error({ device: this.o.device, timeouts: this.timeouts }, 'modem stopped answering; reopening');
      this.timeouts = 0;
      this.ready = false;
      void this.closePort().finally(() => this.lost('modem not answering'));
    } else {
      this.emitHealth();
    }
  }

  private urc(line: string, pdu?: { length: number; hex: string }): void {
    if (pdu) {
      try {
        const r = parseStatusReport(pdu.hex, pdu.length);
        const report: DeliveryReport = {
          ref: String(r.reference),
          to: r.recipient,
          outcome: deliveryOutcome(r.status),
          detail: `TP-ST 0x${r.status.toString(16).padStart(2, '0')}`,
        };
        for (const fn of this.deliveryListeners) fn(report);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'unreadable status report');
      }
      return;
    }
    // RDY / +CPIN: READY / SMS DONE after a modem reboot: our settings (ATE0, CMGF, CNMI) are gone.
    if (line === 'RDY' || line === 'SMS DONE') {
      if (this.ready && !this.stopped) {
        this.log.warn({ urc: line }, 'modem restarted; initialising again');
        this.ready = false;
        this.downReason = 'modem restarting';
        this.emitHealth();
        void this.initialise()
          .then(() => this.scheduleCheck())
          .catch(() => {
            void this.closePort().finally(() => this.lost('modem restarting'));
          });
      }
      return;
    }
    // A URC may carry a number (caller ID, an incoming message's sender): digits never reach the log.
    this.log.debug({ urc: line.slice(0, 40).replace(/\d{4,}/g, '…') }, 'modem says');
  }

  private emitHealth(): void {
    const h = this.health();
    const key = `${h.state}|${h.reason ?? ''}`;
    if (key === this.lastHealthKey) return;
    this.lastHealthKey = key;
    for (const fn of this.healthListeners) fn(h);
  }
}

function describeOpenError(err: unknown): string {
  if (err instanceof AtTimeoutError) return 'modem not answering';
  const msg = err instanceof Error ? err.message : String(err);
  if (/ENOENT|does not exist|No such file/i.test(msg)) return 'modem not connected (no such device)';
  if (/EACCES|permission/i.test(msg)) return 'no permission to open the modem device';
  if (/locked|busy|EBUSY/i.test(msg)) return 'modem device is in use by another program';
  return `modem not available (${msg.slice(0, 80)})`;
}
