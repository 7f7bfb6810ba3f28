/**
 * Waits for a condition instead of sleeping: polls `test` every 20 ms until it holds, and
 * fails with `what` after `timeout` ms.
 */
export async function until(test: () => boolean | Promise<boolean>, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
