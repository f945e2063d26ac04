// What `npm start` runs after building, read from package.json: the bench and the tests spawn
// exactly that, so a node flag added there is measured and tested too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** The arguments after `node` in the start script, e.g. ['--max-semi-space-size=1', 'server/dist/main.js']. */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [cmd, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (cmd !== 'node') throw new Error(`package.json start script does not run node: ${pkg.scripts.start}`);
  return args;
}
