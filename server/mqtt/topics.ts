// Every topic this locker uses, derived from the base topic and the locker id (contract "MQTT").
export interface LockerTopics {
  availability: string;
  state: string;
  events: string;
  /** Subscription filter for every command. */
  requests: string;
  requestPrefix: string;
  response(command: string): string;
}

export function lockerTopics(base: string, lockerId: string): LockerTopics {
  const root = `${base}/${lockerId}`;
  return {
    availability: `${root}/availability`,
    state: `${root}/state`,
    events: `${root}/events`,
    requests: `${root}/request/#`,
    requestPrefix: `${root}/request/`,
    response: (command) => `${root}/response/${command}`,
  };
}

export const ONLINE = JSON.stringify({ state: 'online' });
export const OFFLINE = JSON.stringify({ state: 'offline' });
