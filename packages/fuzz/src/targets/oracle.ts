/**
 * How an oracle fails: {@link check} throws a {@link FuzzFailure}, which the runner tells apart
 * from an exception escaping the codec.
 */
export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

/** `message` may be a function, so a message with values costs nothing while the check passes. */
export function check(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new FuzzFailure(typeof message === 'string' ? message : message());
}
