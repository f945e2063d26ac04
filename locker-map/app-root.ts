// The application's folder (the one holding package.json), found from the module that asks.
// The same code runs from its TypeScript sources (tests, the CLI) and from the bundle that
// `npm run build` writes to server/dist/ (the service): paths relative to a source file would
// point elsewhere in the bundle, paths from the root do not.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function appRoot(moduleUrl: string): string {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'locker-map'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no application folder above ${fileURLToPath(moduleUrl)}`);
  }
}
