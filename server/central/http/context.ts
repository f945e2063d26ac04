import type { Logger } from 'pino';
import type { Clock } from '../../domain/ports.ts';
import type { CentralAuth } from '../auth.ts';
import type { CommandSender } from '../commands.ts';
import type { CentralConfig } from '../config.ts';
import type { CentralDb } from '../db/sql.ts';
import type { Ingestor } from '../ingest.ts';
import type { CentralMqttStatus } from '../mqtt/link.ts';

/** What the central HTTP routes may use; built once by server/central/compose.ts. */
export interface CentralContext {
  config: CentralConfig;
  db: CentralDb;
  auth: CentralAuth;
  ingest: Ingestor;
  commands: CommandSender;
  clock: Clock;
  mqttStatus(): CentralMqttStatus | null;
  log: Logger;
  startedAt: number;
}
