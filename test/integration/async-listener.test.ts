/**
 * H248: a listener that returns a rejecting promise is reported on 'error' like one that throws,
 * on the primary and the worker, instead of ending the process as an unhandled rejection.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnScript } from '../helpers/spawn.js';

describe('async listeners that reject', () => {
  it('[H248] reach the error listener on the primary and the worker; neither process ends', async () => {
    const run = spawnScript('test/fixtures/async-listener-primary.ts');
    const code = await run.exited();
    const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
    expect({ code, line: line !== undefined }).toEqual({ code: 0, line: true });
    const result = JSON.parse(line!) as { errors: string[]; fromWorker: string; listed: number };
    expect(result.errors).toEqual([expect.stringContaining('async listener boom')]);
    expect(result.fromWorker).toContain('worker async listener boom');
    expect(result.listed).toBe(1);
    expect(run.output()).not.toContain('a removed listener ran');
  });
});
