// Whether a broker link can be trusted: on a broker off this host reached over plain mqtt:// or
// without credentials, anyone on that network can read the events, send commands (disable
// compartments) or take over the client id. Such a link is refused unless the operator says
// <PREFIX>_MQTT_INSECURE=true; a broker on this host (tests, a local bridge) is always accepted.
import { isIP } from 'node:net';

export interface MqttCredentials {
  username: string | null;
  password: string | null;
  certFile: string | null;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** What makes this link insecure (empty: TLS and credentials, or a broker on this host). */
export function mqttWeaknesses(url: string, c: MqttCredentials): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  if (isLoopbackHost(u.hostname)) return [];
  const weak: string[] = [];
  if (u.protocol !== 'mqtts:' && u.protocol !== 'wss:') weak.push(`plain ${u.protocol}//`);
  const password = c.password ?? (u.password || null);
  const username = c.username ?? (u.username || null);
  if (!(username && password) && !c.certFile) weak.push('no credentials');
  return weak;
}

/** The one-line refusal, naming the variable that accepts the risk. */
export function insecureMqttMessage(prefix: 'LOCKER' | 'CENTRAL', url: string, weak: string[]): string {
  const host = new URL(url).host;
  return (
    `broker ${host} is not on this host and the link has ${weak.join(' and ')}: anyone on that network could read events, send commands or take the client id; ` +
    `use mqtts:// with ${prefix}_MQTT_USERNAME/${prefix}_MQTT_PASSWORD or ${prefix}_MQTT_CERT/${prefix}_MQTT_KEY, or set ${prefix}_MQTT_INSECURE=true to accept the risk`
  );
}
