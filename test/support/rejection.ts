import { expect } from 'vitest';
import { MnemeError } from '../../src/errors';

/** The MnemeError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<MnemeError> {
  const error = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MnemeError);
  return error as MnemeError;
}
