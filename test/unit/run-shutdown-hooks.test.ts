import { describe, expect, it } from '@jest/globals';
import { HookTimeoutError } from '../../src/errors.js';
import { runShutdownHooks } from '../../src/primary/lifecycle/run-shutdown-hooks.js';

describe('runShutdownHooks', () => {
  it('[H245] abandons a close that never settles with a warning naming it, runs the others, reports a throw', async () => {
    const warnings: Error[] = [];
    const errors: Error[] = [];
    let quickRan = false;
    await runShutdownHooks(
      [
        { name: 'listenSticky({ port: 4460 }).close', run: () => new Promise<void>(() => {}) },
        { name: 'quick', run: async () => void (quickRan = true) },
        {
          name: 'throws',
          run: () => {
            throw new Error('boom');
          },
        },
      ],
      50,
      (error) => errors.push(error),
      (error) => warnings.push(error),
    );
    expect(quickRan).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBeInstanceOf(HookTimeoutError);
    expect(warnings[0]!.message).toContain('listenSticky({ port: 4460 }).close() did not finish within 50 ms');
    expect(errors.map((error) => error.message)).toEqual(['boom']);
  });
});
