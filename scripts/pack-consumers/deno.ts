// Deno: @ws/deno through an npm: specifier (resolved from the node_modules npm installed).
import * as deno from 'npm:@ws/deno';
import { exchange } from './scenario.mjs';

await exchange(deno, 'deno (npm:@ws/deno)');
