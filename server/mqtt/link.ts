// The locker's link to the central office over MQTT: owns the client and wires the outbox
// publisher, the retained state and availability, and the command handler to it. With no
// LOCKER_MQTT_URL it does nothing and events wait in the outbox.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LockerConfig } from '../config/schema.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../domain/audit-log.ts';
import type { CompartmentAdmin } from '../domain/compartment-admin.ts';
import type { Compartments } from '../domain/compartments.ts';
import type { DossierService } from '../domain/dossier-service.ts';
import type { Clock, Scheduler } from '../domain/ports.ts';
import { CommandHandler } from './commands.ts';
import { clientOptions, createClient, redactUrl } from './connection.ts';
import { OutboxPublisher } from './outbox-publisher.ts';
import { StatePublisher, stateSnapshot } from './state-publisher.ts';
import { OFFLINE, ONLINE, lockerTopics, type LockerTopics } from './topics.ts';

export type LinkState = 'disabled' | 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface MqttStatus {
  state: LinkState;
  /** Audit events not yet acknowledged by the broker. */
  outbox: number;
  inFlight: number;
  broker?: string;
  /** True when the link runs without TLS or credentials by permission (LOCKER_MQTT_INSECURE). */
  insecure?: boolean;
  since?: string;
  lastError?: string;
}

export interface MqttLinkDeps {
  config: LockerConfig;
  store: Store;
  audit: AuditLog;
  compartments: Compartments;
  compartmentAdmin: CompartmentAdmin;
  dossiers: DossierService;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
}

/** Publishes other than events (availability, state, answers) share the broker's receive window. */
const RESERVED_IN_FLIGHT = 4;
const STOP_WAIT_MS = 1500;

export class MqttLink {
  readonly topics: LockerTopics;
  private readonly options;
  private client: MqttClient | null = null;
  private readonly outbox: OutboxPublisher;
  private readonly state: StatePublisher;
  private readonly commands: CommandHandler;
  private linkState: LinkState;
  private since = new Date().toISOString();
  private lastError: string | undefined;
  private readonly log: Logger;

  constructor(private readonly d: MqttLinkDeps) {
    const { config } = d;
    this.log = d.log;
    this.topics = lockerTopics(config.mqttBase, config.lockerId);
    this.linkState = config.mqttUrl ? 'connecting' : 'disabled';
    // Read now so a missing certificate fails start-up with the variable's name.
    this.options = config.mqttUrl ? clientOptions(config, this.topics) : null;
    const link = this;
    const port = {
      get connected() {
        return link.client?.connected === true;
      },
      publish: (topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }, cb: (err?: Error) => void) => {
        if (!this.client) return cb(new Error('no MQTT client'));
        this.client.publish(topic, payload, opts, (err) => cb(err ?? undefined));
      },
    };
    this.outbox = new OutboxPublisher(
      d.store,
      port,
      d.scheduler,
      this.log,
      {
        topic: this.topics.events,
        lockerId: config.lockerId,
        maxInFlight: config.mqtt.maxInFlight,
        publishTimeoutMs: config.mqtt.publishTimeoutMs,
        now: () => d.clock.now(),
      },
      () => this.client?.stream?.destroy(),
    );
    const snapshot = () => stateSnapshot(d.compartments, d.audit, d.clock);
    this.state = new StatePublisher(d.store, port, this.topics.state, snapshot, d.scheduler, this.log);
    this.commands = new CommandHandler({
      store: d.store,
      compartmentAdmin: d.compartmentAdmin,
      dossiers: d.dossiers,
      snapshot,
      republish: (from, to) => this.republish(from, to),
      clock: d.clock,
      log: this.log,
    });
  }

  status(): MqttStatus {
    const s: MqttStatus = { state: this.linkState, outbox: this.outbox.depth(), inFlight: this.outbox.outstanding() };
    if (this.d.config.mqttUrl) {
      s.broker = redactUrl(this.d.config.mqttUrl);
      s.insecure = this.d.config.mqtt.insecure.length > 0;
      s.since = this.since;
      if (this.lastError) s.lastError = this.lastError;
    }
    return s;
  }

  start(): void {
    const url = this.d.config.mqttUrl;
    if (!url || !this.options || this.client) return;
    const pruned = this.commands.prune();
    if (pruned > 0) this.log.info({ pruned }, 'old command transactions removed');
    const weak = this.d.config.mqtt.insecure;
    if (weak.length > 0) this.log.warn({ broker: redactUrl(url), weaknesses: weak }, 'the broker link is insecure, run by permission (LOCKER_MQTT_INSECURE=true)');
    const client = createClient(url, this.options);
    this.client = client;
    client.handleMessage = (packet, done) => {
      // The request is acknowledged (PUBACK) only after it was handled and its answer stored,
      // so a crash in between makes the broker deliver it again.
      try {
        this.onRequest(packet.topic, Buffer.from(packet.payload), packet.retain);
      } catch (err) {
        this.log.error({ err }, 'command handling failed');
      }
      done();
    };
    client.on('connect', (connack) => {
      this.setState('connected');
      this.lastError = undefined;
      this.log.info({ broker: redactUrl(url), sessionPresent: connack.sessionPresent }, 'connected to the broker');
      client.publish(this.topics.availability, ONLINE, { qos: 1, retain: true }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'availability publish failed');
      });
      const subOpts = this.d.config.mqtt.protocolVersion === 5 ? { qos: 1 as const, rh: 2 } : { qos: 1 as const };
      client.subscribe(this.topics.requests, subOpts, (err) => {
        if (err) this.log.error({ err: err.message }, 'could not subscribe to command requests');
      });
      this.state.publishNow();
      const receiveMaximum = connack.properties?.receiveMaximum;
      this.outbox.connected(receiveMaximum ? receiveMaximum - RESERVED_IN_FLIGHT : undefined);
    });
    client.on('close', () => {
      if (this.linkState === 'connected') this.log.warn('connection to the broker lost; events wait in the outbox');
      if (this.linkState !== 'stopped') this.setState('disconnected');
      this.outbox.disconnected();
    });
    client.on('reconnect', () => {
      if (this.linkState !== 'stopped') this.setState('connecting');
    });
    client.on('error', (err) => {
      // mqtt.js reconnects on its own; the error is kept for /healthz.
      if (err.message !== this.lastError) this.log.warn({ err: err.message }, 'MQTT error');
      this.lastError = err.message;
    });
    this.outbox.start();
    this.state.start();
    client.connect();
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) {
      this.outbox.stop();
      return;
    }
    this.state.stop();
    if (client.connected) await this.outbox.idle(STOP_WAIT_MS);
    this.outbox.stop();
    this.setState('stopped');
    if (client.connected) {
      // A clean disconnect suppresses the will, so say it ourselves.
      await withTimeout(client.publishAsync(this.topics.availability, OFFLINE, { qos: 1, retain: true }), STOP_WAIT_MS).catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'could not publish offline'),
      );
      await withTimeout(client.endAsync(), STOP_WAIT_MS).catch(() => client.end(true));
    } else {
      client.end(true);
    }
    this.client = null;
  }

  private onRequest(topic: string, payload: Buffer, retained: boolean): void {
    if (!topic.startsWith(this.topics.requestPrefix)) return;
    const command = topic.slice(this.topics.requestPrefix.length);
    if (retained) {
      // A retained request would be replayed on every subscribe: it is not a request.
      this.log.warn({ command }, 'ignored a retained command request');
      return;
    }
    const response = this.commands.handle(command, payload);
    this.log.info(
      { command, transaction: response.transaction, status: response.status, error: response.error?.code, duplicate: response.duplicate },
      'command answered',
    );
    this.client?.publish(this.topics.response(command), JSON.stringify(response), { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message, command }, 'command answer not delivered; a repeat of the transaction gets it again');
    });
  }

  private republish(from: number, to: number): { queued: number } {
    const queued = this.d.store.tx(
      () =>
        this.d.store.db
          .prepare('INSERT OR IGNORE INTO outbox (seq) SELECT seq FROM audit_events WHERE seq BETWEEN ? AND ?')
          .run(from, to).changes,
    );
    this.outbox.rewind();
    return { queued };
  }

  private setState(s: LinkState): void {
    if (s === this.linkState) return;
    this.linkState = s;
    this.since = new Date().toISOString();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
