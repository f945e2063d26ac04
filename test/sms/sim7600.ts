// A simulated SIM7600 behind @serialport/binding-mock: it reads what the locker writes and answers
// like the module does (echo until ATE0, `\r\n> ` without a line end after AT+CMGS, +CMGS: <mr>,
// +CME/+CMS errors, +CDS status reports). It can go deaf, refuse, be unplugged and plugged back.
import { SerialPortMock } from 'serialport';

// @serialport/binding-mock's MockBinding, reached through serialport (whose types resolve under NodeNext).
const MockBinding = SerialPortMock.binding;
type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>;

let devices = 0;

export interface SubmittedPdu {
  /** The length AT+CMGS announced. */
  length: number;
  /** What followed the prompt, without the Ctrl-Z. */
  hex: string;
  mr: number;
}

export class Sim7600 {
  readonly device = `/dev/ttySIM${++devices}`;
  /** Every command line received (without CR), in order. */
  readonly commands: string[] = [];
  readonly pdus: SubmittedPdu[] = [];
  /** Raw control bytes seen (ESC cancels a prompt). */
  escapes = 0;
  opens = 0;

  deaf = false;
  /** Answers to use instead of the normal ones, by command prefix (e.g. 'AT+CMGS' -> '+CMS ERROR: 500'). */
  readonly errors = new Map<string, string>();
  /** After the PDU: answer with this error instead of +CMGS (the network refused). */
  pduError: string | null = null;
  /** After the PDU: say nothing at all. */
  deafAfterPdu = false;
  sim: 'READY' | 'absent' | 'SIM PIN' = 'READY';
  cereg = 1;
  creg = 1;
  csq = 20;
  cnmiSupported = true;
  /** Called when a PDU arrives, before the answer (lets a test look at the queue at that moment). */
  onPdu: ((p: SubmittedPdu) => void) | null = null;

  private present = true;
  private port: MockPortBinding | null = null;
  private sink: { write(data: Buffer): unknown } | null = null;
  private echo = true;
  private input = '';
  private awaitingPdu: number | null = null;
  private nextMr = 1;

  constructor() {
    MockBinding.createPort(this.device, { echo: false, record: false });
  }

  /** The binding the locker opens the device with. */
  readonly binding = {
    open: async (options: Parameters<typeof MockBinding.open>[0]) => {
      if (options.path === this.device && !this.present) {
        throw Object.assign(new Error(`Error: No such file or directory, cannot open ${options.path}`), { code: 'ENOENT' });
      }
      const port = await MockBinding.open(options);
      if (options.path === this.device) this.attach(port);
      return port;
    },
    list: () => MockBinding.list(),
  };

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** USB unplug: the open port fails under the reader, and the device cannot be opened. */
  unplug(): void {
    this.present = false;
    // The read the stream is waiting on fails, as a real one does with EIO when the USB device goes.
    const port = this.port as unknown as { pendingRead: ((err?: Error) => void) | null } | null;
    this.port = null;
    port?.pendingRead?.(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
  }

  plug(): void {
    this.present = true;
    this.echo = true; // a fresh boot
  }

  /** The network's SMS-STATUS-REPORT for message reference `mr`, as +CDS in PDU mode. */
  statusReport(mr: number, status: number, phoneDigits = '84912345678'): void {
    const digits = phoneDigits.length % 2 ? `${phoneDigits}F` : phoneDigits;
    let bcd = '';
    for (let i = 0; i < digits.length; i += 2) bcd += digits[i + 1] + digits[i];
    const scts = '62113221547000'; // 2026-11-23 12:45:07 +00 (swapped nibbles)
    const tpdu = `06${hex2(mr)}${hex2(phoneDigits.length)}91${bcd}${scts}${scts}${hex2(status)}`;
    const sca = '07914889000000F0'; // a service centre address (+84980000000), not counted in the length
    this.say(`\r\n+CDS: ${tpdu.length / 2}\r\n${sca}${tpdu}\r\n`.toUpperCase());
  }

  /** Unsolicited text, e.g. "RDY" after a reboot. */
  urc(text: string): void {
    this.say(`\r\n${text}\r\n`);
  }

  private attach(port: MockPortBinding): void {
    this.port = port;
    this.opens++;
    this.input = '';
    this.awaitingPdu = null;
    const write = port.write.bind(port);
    port.write = async (buf: Buffer) => {
      await write(buf);
      if (this.port === port) this.receive(buf.toString('latin1'));
    };
  }

  /** Runs the simulation over another byte stream (the far end of a pseudo-terminal); returns its input. */
  connectStream(out: { write(data: Buffer): unknown }): (data: Buffer) => void {
    this.sink = out;
    return (data) => this.receive(data.toString('latin1'));
  }

  private say(text: string): void {
    const sink = this.sink;
    if (sink) {
      setImmediate(() => sink.write(Buffer.from(text, 'latin1')));
      return;
    }
    const port = this.port;
    setImmediate(() => {
      if (port && port.isOpen && this.port === port) port.emitData(Buffer.from(text, 'latin1'));
    });
  }

  private receive(data: string): void {
    if (this.deaf) return;
    for (const ch of data) {
      if (ch === '\x1b') {
        this.escapes++;
        this.awaitingPdu = null;
        this.input = '';
        continue;
      }
      if (this.awaitingPdu !== null) {
        if (ch === '\x1a') this.pduDone();
        else this.input += ch;
        continue;
      }
      if (ch === '\r') {
        const line = this.input.trim();
        this.input = '';
        if (line) this.command(line);
        continue;
      }
      if (ch !== '\n') this.input += ch;
    }
  }

  private pduDone(): void {
    const pdu: SubmittedPdu = { length: this.awaitingPdu!, hex: this.input, mr: 0 };
    this.input = '';
    this.awaitingPdu = null;
    if (this.deafAfterPdu) return;
    if (this.pduError) {
      this.pdus.push(pdu);
      this.say(`\r\n${this.pduError}\r\n`);
      return;
    }
    pdu.mr = this.nextMr++;
    this.pdus.push(pdu);
    this.onPdu?.(pdu);
    this.say(`\r\n+CMGS: ${pdu.mr}\r\n\r\nOK\r\n`);
  }

  private command(line: string): void {
    this.commands.push(line);
    const reply = (body: string) => this.say(`${this.echo ? `${line}\r` : ''}\r\n${body}\r\n`);
    for (const [prefix, error] of this.errors) {
      if (line.startsWith(prefix)) return reply(error);
    }
    const cmgs = /^AT\+CMGS=(\d+)$/.exec(line);
    if (cmgs) {
      this.awaitingPdu = Number(cmgs[1]);
      this.say(`${this.echo ? `${line}\r` : ''}\r\n> `);
      return;
    }
    switch (line) {
      case 'AT':
      case 'AT+CMEE=1':
      case 'AT+CMGF=0':
        return reply('OK');
      case 'ATE0':
        this.echo = false;
        return reply('OK');
      case 'AT+CNMI=2,1,0,1,0':
        return reply(this.cnmiSupported ? 'OK' : 'ERROR');
      case 'AT+CPIN?':
        return reply(this.sim === 'absent' ? '+CME ERROR: 10' : `+CPIN: ${this.sim}\r\n\r\nOK`);
      case 'AT+CEREG?':
        return reply(`+CEREG: 0,${this.cereg}\r\n\r\nOK`);
      case 'AT+CREG?':
        return reply(`+CREG: 0,${this.creg}\r\n\r\nOK`);
      case 'AT+CSQ':
        return reply(`+CSQ: ${this.csq},99\r\n\r\nOK`);
      case 'AT+COPS?':
        return reply('+COPS: 0,0,"Viettel",7\r\n\r\nOK');
      default:
        return reply('ERROR');
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}
