/**
 * Frame opcodes (RFC 6455 §5.2, §11.8). Data opcodes are 0x0–0x7 (0x3–0x7 reserved),
 * control opcodes 0x8–0xF (0xB–0xF reserved). Reserved opcodes are a protocol error
 * unless an extension defines them (§5.2); we implement no such extension.
 */

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Control frames have the high bit of the opcode set (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** True for the six opcodes RFC 6455 defines; everything else is reserved (§5.2). */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}
