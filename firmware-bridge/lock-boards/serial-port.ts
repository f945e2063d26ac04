// Opens a lock-board bus through serialport: 8 data bits, no parity, one stop bit, as every board
// family here ships. Kept behind `OpenPort` so the driver can be tested on a pseudo-terminal or
// an in-memory wire. Name ports by /dev/serial/by-id/…: a USB-RS485 adapter's /dev/ttyUSBn can
// change after a replug.
import type { OpenPort } from './serial-board-bus.ts';

export async function openSerialPort(path: string, baudRate: number): Promise<OpenPort> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`cannot open lock-board port ${path}: ${err.message}`)) : resolve())));
  // A port error also arrives as 'close' (unplugged); without a listener it would throw.
  port.on('error', () => undefined);
  return port as unknown as OpenPort;
}
