// The config.txt lines a locker map needs: relay pins on the header held at their locked level
// from power-on (before Linux, so relays do not chatter while the Pi boots), header sensor pins
// as inputs with their pull, the I2C bus and one overlay per expander.
import { DEFAULT_INTERRUPT_PIN, usesHeaderUart } from '../locker-map/load.ts';
import type { LockerMap } from '../locker-map/schema.ts';
import { bankLines } from './lines.ts';

export interface BootConfigOptions {
  /** The serial modem sits on the header UART. */
  uartInUse?: boolean;
  pollMs?: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function pinList(pins: number[]): string {
  return [...pins].sort((a, b) => a - b).join(',');
}

export function bootConfig(map: LockerMap, opts: BootConfigOptions = {}): string {
  const bank = bankLines(map, { skipBoards: true });
  const out: string[] = [];
  out.push(`# config.txt lines for the locker map "${map.name}"`);
  out.push('# Raspberry Pi OS bookworm and later: /boot/firmware/config.txt (older: /boot/config.txt).');
  out.push('# Put them at the end, under [all], then reboot.');
  out.push('[all]');

  const headerLocks = bank.locks.filter((l) => l.chip === 'header');
  if (headerLocks.length > 0) {
    out.push('');
    out.push('# Relays on the header: outputs at their locked level from power-on, until the service holds them.');
    for (const level of [1, 0] as const) {
      const pins = headerLocks.filter((l) => l.lockedValue === level).map((l) => l.offset);
      if (pins.length > 0) out.push(`gpio=${pinList(pins)}=op,${level === 1 ? 'dh' : 'dl'}`);
    }
  }
  const headerSensors = bank.sensors.filter((s) => s.chip === 'header');
  if (headerSensors.length > 0) {
    out.push('');
    out.push('# Door sensors on the header: inputs with their pull resistor (the onoff driver cannot set pulls itself).');
    for (const [bias, code] of [['up', 'pu'], ['down', 'pd'], ['none', 'pn']] as const) {
      const pins = headerSensors.filter((s) => s.bias === bias).map((s) => s.offset);
      if (pins.length > 0) out.push(`gpio=${pinList(pins)}=ip,${code}`);
    }
  }
  if (map.expanders.length > 0) {
    out.push('');
    out.push('# I2C bus for the MCP23017 expanders (BCM 2 = SDA, BCM 3 = SCL).');
    out.push('dtparam=i2c_arm=on');
    for (const e of map.expanders) {
      const bus = e.i2cBus ?? 1;
      const roles = [
        bank.locks.some((l) => l.chip === e.id) ? 'relays' : null,
        bank.sensors.some((s) => s.chip === e.id) ? 'door sensors' : null,
      ].filter(Boolean);
      const what = roles.length > 0 ? roles.join(' and ') : 'nothing mapped';
      if (bus !== 1) {
        out.push(`# ${e.id} is on I2C bus ${bus}: add the overlay's bus parameter (i2c0, i2c_csi_dsi or i2c-path; see /boot/firmware/overlays/README).`);
      }
      if (e.interrupt) {
        const pin = e.interruptPin ?? DEFAULT_INTERRUPT_PIN;
        out.push(`# ${e.id} (${what}): INTA wired to BCM ${pin}, so door edges arrive as interrupts.`);
        out.push(`dtoverlay=mcp23017,addr=${hex(e.address)},gpiopin=${pin}`);
      } else {
        const polled = bank.sensors.some((s) => s.chip === e.id);
        out.push(`# ${e.id} (${what}): no interrupt wired${polled ? `; its door sensors are read every ${opts.pollMs ?? 50} ms` : ''}.`);
        out.push(`dtoverlay=mcp23017,addr=${hex(e.address)},noints`);
      }
    }
    const expanderRelays = bank.locks.filter((l) => l.chip !== 'header');
    if (expanderRelays.length > 0) {
      out.push('');
      out.push('# NOTE: config.txt cannot reach the expanders. An MCP23017 output stays high-impedance (floating) from');
      out.push('# power-on until the locker service starts and drives it locked, so the relay board inputs on');
      out.push(`# ${[...new Set(expanderRelays.map((l) => l.chip))].join(', ')} must keep their relays OFF (locked) while floating:`);
      out.push('# active-low opto boards do; active-high boards need a pull-down on each input (10 kOhm to GND).');
    }
  }
  if (map.boards.length > 0) {
    const ports = [...new Set(map.boards.map((b) => b.port))];
    out.push('');
    out.push(`# ${map.boards.length} RS485 lock board${map.boards.length === 1 ? '' : 's'} on ${ports.join(', ')}: a USB RS485 adapter needs no lines here.`);
    out.push('# The boards hold every lock shut while unpowered or unaddressed, so nothing opens while the Pi boots.');
    const onHeader = ports.filter((p) => usesHeaderUart(p));
    if (onHeader.length > 0 && !opts.uartInUse) {
      out.push('# An RS485 HAT on the header UART (BCM 14/15): enable it and turn off the serial login console (raspi-config).');
      out.push('enable_uart=1');
    }
  }
  if (opts.uartInUse) {
    out.push('');
    out.push('# The SMS modem on the header UART (BCM 14/15); also turn off the serial login console (raspi-config).');
    out.push('enable_uart=1');
  }
  out.push('');
  if (bank.locks.length + bank.sensors.length > 0 || map.boards.length === 0) {
    out.push(`# ${bank.locks.length} relays and ${bank.sensors.length} door sensors: ${bank.locks.length + bank.sensors.length} lines.`);
  }
  return `${out.join('\n')}\n`;
}
