// The leak scan: no pickup code and no full phone number in any log line, MQTT payload, error
// body or audit event. Texts are reduced at once to the standalone digit runs they hold (a code
// or a phone number is one such run), so a suite can feed a whole night of logs and still check
// against codes it only learns later.
import { existsSync, readFileSync } from 'node:fs';
import type { LeakFigures } from './figures.ts';

export type LeakSource = 'log' | 'mqtt' | 'error' | 'audit';

// Letters and dots around a run mean it is part of something else (a hash, a UUID, a decimal).
const RUN = /(?<![0-9A-Za-z.])\+?\d{6,12}(?![0-9A-Za-z])/g;

export class LeakScan {
  private readonly phones = new Set<string>();
  private readonly codes = new Set<string>();
  private readonly runs = new Map<string, string>();
  private readonly counts: Record<LeakSource, number> = { log: 0, mqtt: 0, error: 0, audit: 0 };

  addPhone(local: string): void {
    this.phones.add(local);
  }

  addCode(code: string): void {
    this.codes.add(code);
  }

  /** Every recipient and code ever sent through the file SMS channel. Partial lines are skipped. */
  addFromSmsFile(path: string): void {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      let m: { to?: string; text?: string };
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof m.to === 'string') this.addPhone(m.to);
      for (const c of (m.text ?? '').match(/(?<!\d)\d{6}(?!\d)/g) ?? []) this.addCode(c);
    }
  }

  feed(source: LeakSource, text: string): void {
    this.counts[source]++;
    for (const m of text.matchAll(RUN)) {
      if (!this.runs.has(m[0])) this.runs.set(m[0], `${source}: ${excerpt(text, m.index ?? 0)}`);
    }
  }

  /** Feeds a stream of newline-separated lines (a log). */
  feedLines(source: LeakSource, text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.feed(source, line);
  }

  hits(): string[] {
    const out: string[] = [];
    for (const [run, where] of this.runs) {
      const digits = run.replace('+', '');
      const asLocal = digits.length === 9 ? `0${digits}` : digits.startsWith('84') && digits.length === 11 ? `0${digits.slice(2)}` : digits;
      if (this.codes.has(digits)) out.push(`pickup code ${run} in ${where}`);
      else if (this.phones.has(asLocal)) out.push(`phone number ${run} in ${where}`);
    }
    return out;
  }

  figures(): LeakFigures {
    return {
      logLines: this.counts.log,
      mqttPayloads: this.counts.mqtt,
      errorBodies: this.counts.error,
      auditEvents: this.counts.audit,
      phones: this.phones.size,
      codes: this.codes.size,
      hits: this.hits().length,
    };
  }
}

function excerpt(text: string, at: number): string {
  return text.slice(Math.max(0, at - 60), at + 60).replace(/\s+/g, ' ');
}
