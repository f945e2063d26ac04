// The central office's side of the wire, for tests: a persistent-session subscriber that records
// everything the locker publishes and can send commands.
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { verifyChain, type AuditEvent } from '../../server/domain/audit-event.ts';
import type { TestBroker } from '../helpers/broker.ts';

export type LockerEvent = AuditEvent & { locker: string };

export interface TrailCheck {
  received: number;
  unique: number;
  duplicates: number;
  maxSeq: number;
  gaps: number[];
  /** Seqs that arrived with two different ids: a lost or rewritten event. */
  conflicts: number[];
  chainOk: boolean;
}

export class Consumer {
  readonly events: LockerEvent[] = [];
  readonly availability: { state: string; retained: boolean }[] = [];
  readonly states: { payload: any; retained: boolean }[] = [];
  readonly responses: any[] = [];
  private constructor(
    readonly client: MqttClient,
    readonly root: string,
  ) {}

  static async connect(
    broker: TestBroker,
    opts: { base?: string; lockerId?: string; clientId?: string; url?: string; tls?: { ca: Buffer; cert: Buffer; key: Buffer } } = {},
  ): Promise<Consumer> {
    const root = `${opts.base ?? 'locker'}/${opts.lockerId ?? 'locker-1'}`;
    const client = mqtt.connect(opts.url ?? broker.url, {
      clientId: opts.clientId ?? `central-${randomUUID().slice(0, 8)}`,
      protocolVersion: broker.protocolVersion,
      clean: false,
      reconnectPeriod: 200,
      ...(broker.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      ...(opts.tls ?? {}),
    });
    const c = new Consumer(client, root);
    client.on('message', (topic, payload, packet) => c.record(topic, payload, packet.retain));
    client.on('error', () => {
      // reconnects on its own; tests assert on what arrives
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync([`${root}/events`, `${root}/availability`, `${root}/state`, `${root}/response/#`], { qos: 1 });
    return c;
  }

  private record(topic: string, payload: Buffer, retained: boolean): void {
    const body = JSON.parse(payload.toString('utf8'));
    const sub = topic.slice(this.root.length + 1);
    if (sub === 'events') this.events.push(body);
    else if (sub === 'availability') this.availability.push({ state: body.state, retained });
    else if (sub === 'state') this.states.push({ payload: body, retained });
    else if (sub.startsWith('response/')) this.responses.push({ command: sub.slice('response/'.length), ...body });
  }

  async waitFor(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  lastState(): any {
    return this.states[this.states.length - 1]?.payload;
  }

  lastAvailability(): string | undefined {
    return this.availability[this.availability.length - 1]?.state;
  }

  /** Sends a raw request and waits for the answer carrying `transaction` (or any answer when null). */
  async request(command: string, payload: string | object, transaction: string | null, ms = 10_000): Promise<any> {
    const before = this.responses.length;
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    await this.client.publishAsync(`${this.root}/request/${command}`, body, { qos: 1 });
    let found: any;
    await this.waitFor(`an answer to ${command} ${transaction}`, () => {
      found = this.responses.slice(before).find((r) => r.command === command && r.transaction === transaction);
      return found !== undefined;
    }, ms);
    return found;
  }

  /** De-duplicates by id and checks the trail: every seq once, no gaps, an intact hash chain. */
  check(): TrailCheck {
    const byId = new Map<string, LockerEvent>();
    const bySeq = new Map<number, string>();
    const conflicts: number[] = [];
    for (const e of this.events) {
      byId.set(e.id, e);
      const seen = bySeq.get(e.seq);
      if (seen !== undefined && seen !== e.id) conflicts.push(e.seq);
      bySeq.set(e.seq, e.id);
    }
    const maxSeq = Math.max(0, ...bySeq.keys());
    const gaps: number[] = [];
    for (let s = 1; s <= maxSeq; s++) if (!bySeq.has(s)) gaps.push(s);
    const ordered = [...byId.values()].sort((a, b) => a.seq - b.seq);
    return {
      received: this.events.length,
      unique: byId.size,
      duplicates: this.events.length - byId.size,
      maxSeq,
      gaps,
      conflicts,
      chainOk: verifyChain(ordered).ok,
    };
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
