// The lockers' topics as the central office sees them (contract "MQTT"), for any locker id.
export type TopicKind = 'events' | 'availability' | 'state' | 'response';

export interface CentralTopics {
  /** Shared subscriptions: each message goes to one instance of the group. */
  shared: string[];
  /** Plain subscriptions, only to read the retained messages (shared ones get none). */
  snapshot: string[];
  /** Plain subscription: every instance sees every answer, so the one that asked gets it. */
  responses: string;
  request(locker: string, command: string): string;
  parse(topic: string): { locker: string; kind: TopicKind; command?: string } | null;
}

export function centralTopics(base: string, group: string): CentralTopics {
  const prefix = `${base}/`;
  return {
    shared: ['events', 'availability', 'state'].map((k) => `$share/${group}/${base}/+/${k}`),
    snapshot: ['availability', 'state'].map((k) => `${base}/+/${k}`),
    responses: `${base}/+/response/#`,
    request: (locker, command) => `${base}/${locker}/request/${command}`,
    parse(topic) {
      if (!topic.startsWith(prefix)) return null;
      const rest = topic.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash <= 0) return null;
      const locker = rest.slice(0, slash);
      const tail = rest.slice(slash + 1);
      if (tail === 'events' || tail === 'availability' || tail === 'state') return { locker, kind: tail };
      if (tail.startsWith('response/') && tail.length > 'response/'.length) return { locker, kind: 'response', command: tail.slice('response/'.length) };
      return null;
    },
  };
}
