// A small fleet of real lockers for the central tests: each a real locker service (temp data
// dir, real HTTP port, simulated doors) publishing to the test broker, plus ways to make its
// trail go wrong the way it does in the field (an edited database, a lost outbox row).
import { rmSync } from 'node:fs';
import { openDatabase } from '../../server/db/database.ts';
import { Store } from '../../server/db/store.ts';
import { AuditLog } from '../../server/domain/audit-log.ts';
import { AuthService } from '../../server/domain/auth-service.ts';
import type { TestBroker } from '../helpers/broker.ts';
import { ManualClock } from '../helpers/clock.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';

export class FleetLocker {
  pickups: { dossier: string; compartment: number }[] = [];
  private token: string | null = null;
  private n = 0;

  private constructor(
    readonly id: string,
    public t: TestLocker,
    private readonly env: Record<string, string>,
    readonly dataDir: string,
    readonly clock: ManualClock,
  ) {}

  static async start(broker: TestBroker, id: string, clock = new ManualClock()): Promise<FleetLocker> {
    const dataDir = tempDir(`fleet-${id}-`);
    const env = { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting, LOCKER_ID: id };
    const t = await startLocker({ env, dataDir, clock });
    return new FleetLocker(id, t, env, dataDir, clock);
  }

  /** One citizen collecting one dossier: register, load, confirm, pick up, open and shut the door. */
  async pickup(): Promise<{ dossier: string; compartment: number }> {
    this.token ??= await this.t.login('staff');
    const i = this.n++;
    const phone = `09${String(this.id.length * 7).slice(-1)}${String(i).padStart(7, '0')}`;
    const dossier = `${this.id.toUpperCase()}-${String(i).padStart(4, '0')}`;
    const compartment = await loadDossier(this.t, this.token, dossier, phone);
    const res = await this.t.api('POST', '/api/v1/pickups', { phone, code: this.t.codeFor(phone) });
    if (res.status !== 200) throw new Error(`pickup ${dossier}: ${res.status} ${JSON.stringify(res.body)}`);
    this.t.sim.setDoor(compartment, true);
    this.t.sim.setDoor(compartment, false);
    const p = { dossier, compartment };
    this.pickups.push(p);
    return p;
  }

  latestSeq(): number {
    return this.t.locker.ctx.audit.latestSeq();
  }

  outboxDepth(): number {
    return this.t.locker.ctx.mqttStatus().outbox;
  }

  /** Stops the service, lets `offline` work on its database, starts it again on the same data dir. */
  async whileStopped(offline: (tools: { db: ReturnType<typeof openDatabase>; audit: AuditLog; auth: AuthService }) => Promise<void> | void): Promise<void> {
    await this.t.locker.stop();
    const db = openDatabase(this.dataDir);
    try {
      const store = new Store(db);
      const audit = new AuditLog(store, this.clock);
      await offline({ db, audit, auth: new AuthService(store, audit, this.clock, 60_000) });
    } finally {
      db.close();
    }
    this.token = null;
    this.t = await startLocker({ env: this.env, dataDir: this.dataDir, clock: this.clock });
  }

  async stop(): Promise<void> {
    await this.t.locker.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
