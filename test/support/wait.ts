/** Bounded polling for a condition, so tests wait on state rather than on fixed sleeps. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
  stepMs = 10,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the rejection of a promise that must fail (and fails the test if it does not). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a result');
}
