// Loaded by every vitest project (vitest.workspace.ts): the runner-agnostic checks of
// test/shared/assert.ts count as assertions of the test that runs them, as `expect` calls do.
import { expect } from 'vitest';

(globalThis as { __wsCountAssertion?: () => void }).__wsCountAssertion = () => {
  expect.setState({ assertionCalls: expect.getState().assertionCalls + 1 });
};
