// The code of the WebSocketUsageError a call throws (any other error fails the test), or undefined.
import { expect } from 'vitest';
import { WebSocketUsageError } from '../../src/errors.ts';

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WebSocketUsageError);
    return (e as WebSocketUsageError).code;
  }
  return undefined;
}
