// The audit event types that are alarms: shown at the top of the staff console until someone
// acknowledges them, and listed by GET /api/v1/alarms. One list for the server (imported from
// TypeScript) and for the pages (imported by the browser), so the two cannot drift apart.
export const ALARM_TYPES = Object.freeze([
  'door.jammed',
  'door.forced_open',
  'door.ajar',
  'door.sensor_fault',
  'door.unlock_failed',
  'board.lost',
  'sms.failed',
  'sms.modem_lost',
  'dossier.loading_stale',
]);

/** Alarms about one door: the console shows that door's state next to them. */
export const DOOR_ALARM_TYPES = Object.freeze(['door.jammed', 'door.forced_open', 'door.ajar', 'door.sensor_fault', 'door.unlock_failed']);

/** The event that marks an alarm as handled; its `data.alarmSeq` names the alarm's seq. */
export const ALARM_ACK_TYPE = 'alarm.acknowledged';
