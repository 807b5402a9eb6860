/**
 * [H504] A library primary whose last slot gives up in a crash loop after the start runs on
 * with no worker, holding its process until a worker is forked again or it shuts down (library
 * tester t53: its process ended with code 0 right after `crashLoop`: no `shutdown`, no
 * `_destroy`, and a supervisor's on-failure restart never came).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnScript } from '../helpers/spawn.js';

describe('a library primary with no worker left', () => {
  it('[H504] runs on after its last slot gave up, until its shutdown (here a SIGTERM)', async () => {
    const primary = spawnScript('test/fixtures/all-given-up-primary.ts');
    await primary.waitFor(/event crashLoop remainingSlots=0 state=running/);
    // Asked of a process that runs on: before, it had ended by itself with code 0.
    expect(primary.output()).not.toMatch(/^exit /m);
    primary.child.kill('SIGTERM');
    await primary.waitFor(/event shutdownComplete/);
    await primary.exited();
    const lines = primary.stdout().split('\n').filter((line) => line.startsWith('event ') || line.startsWith('exit '));
    expect(lines).toEqual(['event crashLoop remainingSlots=0 state=running', 'event shutdown requestedBy=signal signal=SIGTERM', 'event shutdownComplete', expect.stringMatching(/^exit \d+$/)]);
  });
});
