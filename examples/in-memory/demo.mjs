// PLACEHOLDER — to be replaced by the real in-memory demo.
// Imports the built codec (packages/codec/dist) through the workspace link and lists its exports.
import * as codec from '@ws/codec';

console.log(`@ws/codec exports: ${Object.keys(codec).sort().join(', ')}`);
