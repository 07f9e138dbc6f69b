import { describe, it, expect } from 'vitest';
import { isValidWireCloseCode } from '../src/close-code.ts';
describe('close codes', () => {
  it('rejects reserved', () => { expect(isValidWireCloseCode(1005)).toBe(false); expect(isValidWireCloseCode(1000)).toBe(true); });
});
