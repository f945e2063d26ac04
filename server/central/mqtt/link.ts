// The central service's MQTT client. One persistent MQTT 5 session per instance (stable client
// id, clean:false, sessionExpiryInterval > 0) so that what lockers publish while this instance is
// down or restarting waits at the broker; QoS 1 shared subscriptions so several instances split
// the load; and each message acknowledged (PUBACK) only once it is stored: mqtt.js sends the
// PUBACK when the callback of `handleMessage` is called, and that happens after the database
// transaction committed. A message that cannot be stored is retried here, never acknowledged
// unstored: if the instance stops first, the broker delivers it again on the next connect.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ConfigError } from '../../config/load.ts';
import { redactUrl } from '../../mqtt/connection.ts';
import type { CentralMqttOptions } from '../config.ts';
import { LOCKER_ID } from '../event-schema.ts';
import type { Ingestor } from '../ingest.ts';
import { centralTopics, type CentralTopics } from './topics.ts';

export type CentralLinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface CentralMqttStatus {
  state: CentralLinkState;
  broker: string;
  /** True when the link runs without TLS or credentials by permission (CENTRAL_MQTT_INSECURE). */
  insecure: boolean;
  clientId: string;
  group: string;
  since: string;
  subscribed: boolean;
  sessionPresent?: boolean;
  lastError?: string;
  received: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  malformed: number;
  storeFailures: number;
}

export type ResponseHandler = (locker: string, command: string, payload: Buffer) => Promise<void>;

const SUB_SHARED = 1;
const SUB_SNAPSHOT = 2;
const SUB_RESPONSES = 3;
/** The plain subscription that fetched the retained messages is dropped after this. */
const SNAPSHOT_HOLD_MS = 5000;
const RETRY_MAX_MS = 30_000;

export function centralClientOptions(o: CentralMqttOptions): IClientOptions {
  const read = (key: string, path: string | null) => {
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const options: IClientOptions = {
    clientId: o.clientId,
    // Shared subscriptions and the session expiry are MQTT 5.
    protocolVersion: 5,
    clean: false,
    keepalive: o.keepaliveSec,
    reconnectPeriod: 1000,
    connectTimeout: 15_000,
    resubscribe: false,
    manualConnect: true,
    rejectUnauthorized: true,
    properties: { sessionExpiryInterval: o.sessionExpirySec, receiveMaximum: o.receiveMaximum },
  };
  if (o.username !== null) options.username = o.username;
  if (o.password !== null) options.password = o.password;
  const ca = read('CENTRAL_MQTT_CA', o.caFile);
  const cert = read('CENTRAL_MQTT_CERT', o.certFile);
  const key = read('CENTRAL_MQTT_KEY', o.keyFile);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  return options;
}

export class CentralLink {
  readonly topics: CentralTopics;
  private client: MqttClient | null = null;
  private state: CentralLinkState = 'connecting';
  private since = new Date().toISOString();
  private lastError: string | undefined;
  private subscribed = false;
  private sessionPresent: boolean | undefined;
  private stopping = false;
  private received = 0;
  private storeFailures = 0;
  private busy: Promise<void> = Promise.resolve();
  private cancelRetry: (() => void) | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private readonly options: IClientOptions;

  constructor(
    private readonly o: CentralMqttOptions,
    private readonly ingest: Ingestor,
    private readonly onResponse: ResponseHandler,
    private readonly log: Logger,
  ) {
    if (!o.url) throw new ConfigError('CENTRAL_MQTT_URL', 'is required');
    this.topics = centralTopics(o.base, o.group);
    this.options = centralClientOptions(o);
  }

  status(): CentralMqttStatus {
    const s = this.ingest.stats;
    return {
      state: this.state,
      broker: redactUrl(this.o.url!),
      insecure: this.o.insecure.length > 0,
      clientId: this.o.clientId,
      group: this.o.group,
      since: this.since,
      subscribed: this.subscribed,
      ...(this.sessionPresent !== undefined ? { sessionPresent: this.sessionPresent } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      received: this.received,
      stored: s.stored,
      duplicates: s.duplicates,
      conflicts: s.conflicts,
      malformed: s.malformed,
      storeFailures: this.storeFailures,
    };
  }

  /** Publishes a command request (QoS 1, never retained). */
  publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    if (this.client) return;
    this.stopping = false;
    if (this.o.insecure.length > 0) this.log.warn({ broker: redactUrl(this.o.url!), weaknesses: this.o.insecure }, 'the broker link is insecure, run by permission (CENTRAL_MQTT_INSECURE=true)');
    const client = mqtt.connect(this.o.url!, this.options);
    this.client = client;
    client.handleMessage = (packet, done) => {
      // Serial: mqtt.js hands over the next packet only after done(). done() without an error
      // sends the PUBACK; done(err) sends none, and the broker redelivers on the next connect.
      const work = this.handle(packet).then(
        () => done(),
        (err: Error) => done(err),
      );
      this.busy = work.catch(() => undefined);
    };
    client.on('connect', (connack) => {
      this.sessionPresent = connack.sessionPresent;
      this.setState('connected');
      this.lastError = undefined;
      this.log.info({ broker: redactUrl(this.o.url!), clientId: this.o.clientId, sessionPresent: connack.sessionPresent }, 'connected to the broker');
      void this.subscribe(client);
    });
    client.on('close', () => {
      this.subscribed = false;
      if (this.state !== 'stopped') {
        if (this.state === 'connected') this.log.warn('connection to the broker lost; the broker keeps this instance\'s messages');
        this.setState('disconnected');
      }
    });
    client.on('reconnect', () => {
      if (this.state !== 'stopped') this.setState('connecting');
    });
    client.on('error', (err) => {
      if (err.message !== this.lastError) this.log.warn({ err: err.message }, 'MQTT error');
      this.lastError = err.message;
    });
    client.connect();
  }

  private async subscribe(client: MqttClient): Promise<void> {
    try {
      const shared = await client.subscribeAsync(this.topics.shared, { qos: 1, properties: { subscriptionIdentifier: SUB_SHARED } });
      const responses = await client.subscribeAsync(this.topics.responses, { qos: 1, properties: { subscriptionIdentifier: SUB_RESPONSES } });
      const refused = [...shared, ...responses].filter((g) => g.qos === 128);
      if (refused.length > 0) throw new Error(`the broker refused ${refused.map((g) => g.topic).join(', ')}`);
      this.subscribed = true;
      // QoS 0 and dropped again soon: this one is only for the retained availability and state.
      await client.subscribeAsync(this.topics.snapshot, { qos: 0, rap: false, rh: 0, properties: { subscriptionIdentifier: SUB_SNAPSHOT } });
      if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
      this.snapshotTimer = setTimeout(() => {
        this.snapshotTimer = null;
        if (client.connected) client.unsubscribe(this.topics.snapshot, () => undefined);
      }, SNAPSHOT_HOLD_MS);
      this.snapshotTimer.unref();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.log.error({ err: (err as Error).message }, 'could not subscribe to the lockers\' topics');
    }
  }

  private async handle(packet: IPublishPacket): Promise<void> {
    this.received++;
    const where = this.topics.parse(packet.topic);
    if (!where || !LOCKER_ID.test(where.locker)) {
      this.log.warn({ topic: packet.topic.slice(0, 200) }, 'ignored a message on an unexpected topic');
      return;
    }
    const ids = packet.properties?.subscriptionIdentifier;
    const subs = ids === undefined ? null : Array.isArray(ids) ? ids : [ids];
    // A live copy through the snapshot subscription: the shared subscription delivers it to one
    // instance already. (Without subscription identifiers, handle both: they are idempotent.)
    if (subs && !packet.retain && !subs.includes(SUB_SHARED) && !subs.includes(SUB_RESPONSES)) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    await this.withRetry(async () => {
      switch (where.kind) {
        case 'events':
          await this.ingest.event(where.locker, payload);
          return;
        case 'availability':
          await this.ingest.availability(where.locker, payload);
          return;
        case 'state':
          await this.ingest.state(where.locker, payload);
          return;
        case 'response':
          await this.onResponse(where.locker, where.command!, payload);
          return;
      }
    }, where);
  }

  /** Storage trouble (database down, disk full) is waited out; the message stays unacknowledged meanwhile. */
  private async withRetry(fn: () => Promise<void>, where: { locker: string; kind: string }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        this.storeFailures++;
        this.lastError = `storage: ${(err as Error).message}`;
        this.log.error({ err: (err as Error).message, locker: where.locker, kind: where.kind, attempt }, 'could not store a message; it stays unacknowledged');
        if (this.stopping) throw err;
        const delay = Math.min(RETRY_MAX_MS, 250 * 2 ** Math.min(attempt, 10));
        const stopped = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), delay);
          this.cancelRetry = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        this.cancelRetry = null;
        if (stopped) throw err;
      }
    }
  }

  async stop(waitMs = 3000): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.setState('stopped');
    this.cancelRetry?.();
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    // Let the message being stored finish, so its PUBACK goes out before the connection closes.
    await Promise.race([this.busy, new Promise((r) => setTimeout(r, waitMs).unref())]);
    await Promise.race([client.endAsync(), new Promise((r) => setTimeout(r, waitMs).unref())]).catch(() => undefined);
    if (client.connected) client.end(true);
    this.client = null;
  }

  private setState(s: CentralLinkState): void {
    if (s === this.state) return;
    this.state = s;
    this.since = new Date().toISOString();
  }
}
