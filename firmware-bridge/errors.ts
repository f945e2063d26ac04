// A driver that cannot run here says what to install or enable; the composition root turns
// this into a start-up failure (exit 1) with that message.
export class DriverUnavailableError extends Error {
  override readonly name = 'DriverUnavailableError';
}
