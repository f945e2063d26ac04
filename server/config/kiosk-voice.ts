// Where the kiosk's spoken prompts live when LOCKER_KIOSK_VOICE_DIR does not say: beside the
// bundle, since `npm run build` (run by install.sh for every release) renders them there.
import { join } from 'node:path';
import { appRoot } from '../../locker-map/app-root.ts';

export const DEFAULT_VOICE_DIR = join(appRoot(import.meta.url), 'server', 'dist', 'voice');
