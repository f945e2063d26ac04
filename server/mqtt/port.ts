// The slice of an MQTT client the publishers need; mqtt.js's MqttClient fits it, and unit tests
// give a fake one.
export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
}

export interface PublishPort {
  readonly connected: boolean;
  publish(topic: string, payload: string, opts: PublishOptions, cb: (err?: Error) => void): unknown;
}
