// The small interfaces the domain depends on. Adapters (GPIO, SQLite, MQTT, HTTP, SMS
// gateways) live at the edges and are passed in by the composition root.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Scheduler {
  every(ms: number, fn: () => void): () => void;
  after(ms: number, fn: () => void): () => void;
}

export const timerScheduler: Scheduler = {
  every(ms, fn) {
    const h = setInterval(fn, ms);
    h.unref?.();
    return () => clearInterval(h);
  },
  after(ms, fn) {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return () => clearTimeout(h);
  },
};

export interface SmsMessage {
  to: string;
  text: string;
}

export interface SmsChannel {
  readonly name: string;
  send(message: SmsMessage): Promise<void>;
  close?(): Promise<void>;
}
