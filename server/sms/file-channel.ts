// The default channel: each message appended as one JSON line, for laptops, demos and tests.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, SmsChannel, SmsMessage } from '../domain/ports.ts';

export class FileSmsChannel implements SmsChannel {
  readonly name = 'file';

  constructor(
    private readonly path: string,
    private readonly clock: Clock,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const line = JSON.stringify({ to: message.to, text: message.text, at: new Date(this.clock.now()).toISOString() });
    await appendFile(this.path, `${line}\n`, { mode: 0o600 });
  }
}
