import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import type { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import type { LockerMap } from '../../locker-map/schema.ts';
import type { LockerConfig } from '../config/schema.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../domain/audit-log.ts';
import type { AuthService } from '../domain/auth-service.ts';
import type { CompartmentAdmin } from '../domain/compartment-admin.ts';
import type { Compartments } from '../domain/compartments.ts';
import type { DossierService } from '../domain/dossier-service.ts';
import type { PickupService } from '../domain/pickup-service.ts';
import type { Clock } from '../domain/ports.ts';
import type { Alarms } from '../domain/alarms.ts';
import type { DossierRepairs } from '../domain/dossier-repairs.ts';
import type { MqttStatus } from '../mqtt/link.ts';
import type { SmsStatus } from '../sms/dispatcher.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { EventStreams } from '../http/event-streams.ts';

/** What the HTTP adapter may use; built once by the composition root. */
export interface LockerContext {
  config: LockerConfig;
  map: LockerMap;
  clock: Clock;
  store: Store;
  audit: AuditLog;
  compartments: Compartments;
  compartmentAdmin: CompartmentAdmin;
  dossiers: DossierService;
  pickups: PickupService;
  /** Staff repairs on a dossier: phone correction, new deadline, phone reveal, search by phone. */
  repairs: DossierRepairs;
  /** Alarm events and their acknowledgements. */
  alarms: Alarms;
  auth: AuthService;
  doorBus: DoorBus;
  sim: SimDoorBus | null;
  smsQueue: SmsQueue;
  smsChannel: string;
  /** The `sms` part of /healthz: channel state (modem SIM, registration, signal) and queue counts. */
  smsStatus?(): SmsStatus;
  mqttStatus(): MqttStatus;
  /** The staff console's open live streams (GET /api/v1/events/stream) and their limits. */
  streams: EventStreams;
  startedAt: number;
}
