// The listeners of one door bus: every driver hands its door events to them the same way, and a
// listener that throws is logged without keeping the event from the others.
import type { DoorEvent, DoorListener } from './door-bus.ts';

export class DoorListeners {
  private readonly listeners = new Set<DoorListener>();

  constructor(private readonly log: { error(obj: object, msg?: string): void }) {}

  add(listener: DoorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: DoorEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err, compartment: event.compartment }, 'door event listener failed');
      }
    }
  }
}
