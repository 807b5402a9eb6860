/**
 * The exit code of `clusterkit run` (and of a primary's own SIGTERM handling) after a shutdown.
 * Connections reset before any worker took them (`connectionsReset`) lost their requests as
 * surely as requests cut off at a worker's deadline: the supervisor saw 0 while `clusterkit stop`
 * said 3 for the same shutdown (platform t37 M1, hostile t37 L3).
 */
import { describe, expect, it } from '@jest/globals';
import { requestedStopExitCode, shutdownExitCode } from '../../src/primary/lifecycle/primary-signals.js';
import type { ShutdownReport } from '../../src/index.js';

const clean: ShutdownReport = { graceful: [], failed: [], killed: [], requestsCut: 0 } as unknown as ShutdownReport;

describe('the exit code after a shutdown', () => {
  it('[H368] is 1 when connections were reset before any worker took them, though every worker stopped cleanly; 0 when none was', () => {
    expect(shutdownExitCode(clean)).toBe(0);
    expect(requestedStopExitCode(clean)).toBe(0);
    const reset = { ...clean, connectionsReset: 3 } as ShutdownReport;
    expect(shutdownExitCode(reset)).toBe(1);
    expect(requestedStopExitCode(reset)).toBe(1);
    expect(shutdownExitCode({ ...clean, connectionsReset: 0 } as ShutdownReport)).toBe(0);
  });
});
