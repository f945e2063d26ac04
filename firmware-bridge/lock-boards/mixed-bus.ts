// A mixed cabinet: every lock on RS485 lock boards, some doors read by reed switches on GPIO (a
// cabinet whose boards have no feedback input, or a retrofitted sensor). One door bus to the
// domain: locks, board health and the other doors are the serial bus's; the GPIO doors' state and
// events come from the GPIO driver, which drives no lock here. Started serial first (its outputs
// off), stopped in reverse.
import type { BoardHealth, BoardListener, DoorBus, DoorListener, DoorState, UnlockResult } from '../door-bus.ts';
import type { SerialBoardDoorBus } from './serial-board-bus.ts';

export class MixedDoorBus implements DoorBus {
  readonly driver = 'serial';
  private readonly gpioDoors: ReadonlySet<number>;

  constructor(
    private readonly serial: SerialBoardDoorBus,
    private readonly gpio: DoorBus,
    gpioDoors: number[],
  ) {
    this.gpioDoors = new Set(gpioDoors);
  }

  async start(): Promise<void> {
    await this.serial.start();
    try {
      await this.gpio.start();
    } catch (err) {
      await this.serial.stop().catch(() => undefined);
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.gpio.stop().catch(() => undefined);
    await this.serial.stop();
  }

  unlock(compartment: number): Promise<UnlockResult> {
    return this.serial.unlock(compartment);
  }

  doorState(compartment: number): DoorState {
    return this.gpioDoors.has(compartment) ? this.gpio.doorState(compartment) : this.serial.doorState(compartment);
  }

  onEvent(listener: DoorListener): () => void {
    const offSerial = this.serial.onEvent((e) => {
      if (!this.gpioDoors.has(e.compartment)) listener(e);
    });
    const offGpio = this.gpio.onEvent((e) => {
      if (this.gpioDoors.has(e.compartment)) listener(e);
    });
    return () => {
      offSerial();
      offGpio();
    };
  }

  energised(): number[] {
    return this.serial.energised();
  }

  onBoardEvent(listener: BoardListener): () => void {
    return this.serial.onBoardEvent(listener);
  }

  boardHealth(): BoardHealth[] {
    return this.serial.boardHealth();
  }

  lostBoardOf(compartment: number): string | null {
    return this.gpioDoors.has(compartment) ? null : this.serial.lostBoardOf(compartment);
  }
}
