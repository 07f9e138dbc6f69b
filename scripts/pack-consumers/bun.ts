// Bun: @ws/bun from the tarball (installed by npm), one exchange over 127.0.0.1.
import * as bun from '@ws/bun';
import { exchange } from './scenario.mjs';

await exchange(bun, 'bun (@ws/bun)');
