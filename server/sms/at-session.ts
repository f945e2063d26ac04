// One conversation with an AT modem over a byte stream. Commands go one at a time: the next is
// written only after the modem has answered OK or an error to the previous one (or it timed out).
// Lines the current command did not ask for are unsolicited result codes (URCs) and go to `onUrc`;
// `+CDS: <len>` is followed by a PDU line and is delivered as one URC with its PDU.
// The `>` prompt of AT+CMGS comes without a line end, so it is matched on the raw stream.
import type { Scheduler } from '../domain/ports.ts';

export class AtError extends Error {
  constructor(
    readonly command: string,
    readonly result: string,
  ) {
    super(`${command} answered ${result}`);
  }
}

export class AtTimeoutError extends Error {
  constructor(readonly command: string, ms: number) {
    super(`${command}: no answer within ${ms} ms`);
  }
}

export class AtClosedError extends Error {}

export interface AtWriter {
  write(data: string | Buffer): void;
}

export interface CommandOptions {
  timeoutMs?: number;
  /** Information lines to collect, e.g. "+CSQ:"; others are URCs. Omitted: no information expected. */
  expect?: string;
}

export interface PromptOptions extends CommandOptions {
  /** How long to wait for the `>` prompt. */
  promptTimeoutMs?: number;
  /** Called at the prompt, right before the payload is written (the point of no return). */
  beforePayload?: () => void;
}

interface Pending {
  command: string;
  expect: string | null;
  lines: string[];
  /** Payload to write at the prompt; null once written or when no prompt is awaited. */
  payload: string | null;
  beforePayload?: () => void;
  /** After the payload: how long the final answer may take. */
  finalTimeoutMs: number;
  resolve(lines: string[]): void;
  reject(err: Error): void;
  cancelTimer: () => void;
  armTimer(ms: number, what: string): void;
}

const FINAL_OK = /^OK$/;
const FINAL_ERROR = /^(ERROR|\+CME ERROR:.*|\+CMS ERROR:.*|NO CARRIER|COMMAND NOT SUPPORT)$/;
const CDS_HEADER = /^\+CDS:\s*(\d+)$/;

export class AtSession {
  private buf = '';
  private current: Pending | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed: Error | null = null;
  private pduFor: { header: string; length: number } | null = null;
  /** Set after a timeout: the modem may still sit at a `>` prompt, so the next command cancels it first. */
  private desynced = false;

  constructor(
    private readonly io: AtWriter,
    private readonly scheduler: Scheduler,
    private readonly onUrc: (line: string, pdu?: { length: number; hex: string }) => void,
    private readonly defaultTimeoutMs = 5000,
  ) {}

  /** Bytes from the modem. */
  feed(chunk: Buffer | string): void {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    this.takePrompt();
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf.slice(0, nl).replace(/\r/g, '').trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.line(line);
      this.takePrompt();
    }
    if (this.buf.length > 4096) this.buf = this.buf.slice(-1024); // garbage with no line end
  }

  /** Fails the command in flight and everything queued (the port closed or vanished). */
  close(err: Error): void {
    this.closed = err;
    const c = this.current;
    this.current = null;
    if (c) {
      c.cancelTimer();
      c.reject(err);
    }
  }

  /** Resumes after a reopen. */
  reopen(): void {
    this.closed = null;
    this.buf = '';
    this.pduFor = null;
    this.desynced = true;
  }

  command(command: string, opts: CommandOptions = {}): Promise<string[]> {
    return this.enqueue(command, null, opts);
  }

  /** AT+CMGS and friends: writes `command`, waits for `>`, writes `payload` (with its Ctrl-Z) and awaits the result. */
  prompted(command: string, payload: string, opts: PromptOptions = {}): Promise<string[]> {
    return this.enqueue(command, payload, opts);
  }

  private enqueue(command: string, payload: string | null, opts: PromptOptions): Promise<string[]> {
    const run = () => this.run(command, payload, opts);
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private run(command: string, payload: string | null, opts: PromptOptions): Promise<string[]> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.desynced) {
      // ESC abandons a half-entered message at a `>` prompt; a modem not at a prompt ignores it.
      this.io.write('\x1b');
      this.desynced = false;
    }
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<string[]>((resolve, reject) => {
      let cancel = () => {};
      const pending: Pending = {
        command,
        expect: opts.expect ?? null,
        lines: [],
        payload,
        beforePayload: opts.beforePayload,
        finalTimeoutMs: timeoutMs,
        resolve: (lines) => {
          cancel();
          this.current = null;
          resolve(lines);
        },
        reject: (err) => {
          cancel();
          this.current = null;
          reject(err);
        },
        cancelTimer: () => cancel(),
        armTimer: (ms, what) => {
          cancel();
          cancel = this.scheduler.after(ms, () => {
            if (this.current !== pending) return;
            this.desynced = true;
            pending.reject(new AtTimeoutError(what, ms));
          });
        },
      };
      this.current = pending;
      pending.armTimer(payload !== null ? (opts.promptTimeoutMs ?? timeoutMs) : timeoutMs, payload !== null ? `${command} (prompt)` : command);
      try {
        this.io.write(`${command}\r`);
      } catch (err) {
        pending.reject(err as Error);
        return;
      }
    });
  }

  private takePrompt(): void {
    const c = this.current;
    if (!c || c.payload === null) return;
    const m = /(?:^|\n)\s*> ?$/.exec(this.buf) ?? /^\s*> ?/.exec(this.buf);
    if (!m) return;
    this.buf = this.buf.slice(m.index + m[0].length);
    const payload = c.payload;
    c.payload = null;
    try {
      c.beforePayload?.();
      this.io.write(payload);
    } catch (err) {
      this.desynced = true;
      c.reject(err as Error);
      return;
    }
    c.armTimer(c.finalTimeoutMs, c.command);
  }

  private line(line: string): void {
    if (this.pduFor) {
      const header = this.pduFor;
      this.pduFor = null;
      this.onUrc(header.header, { length: header.length, hex: line });
      return;
    }
    const cds = CDS_HEADER.exec(line);
    if (cds) {
      this.pduFor = { header: line, length: Number(cds[1]) };
      return;
    }
    const c = this.current;
    if (c) {
      if (line === c.command) return; // echo, before ATE0 took effect
      if (FINAL_OK.test(line) && c.payload === null) {
        c.resolve(c.lines);
        return;
      }
      if (FINAL_ERROR.test(line)) {
        // An error at the prompt stage means the modem refused the command; nothing was sent.
        c.payload = null;
        c.reject(new AtError(c.command, line));
        return;
      }
      if (c.expect && line.startsWith(c.expect)) {
        c.lines.push(line);
        return;
      }
    }
    this.onUrc(line);
  }
}
