import { describe, expect, it } from '@jest/globals';
import { CrashLoopError, WorkerExitedError } from '../../src/errors.js';

/** The breaker's advice fits what is left: a service that exited can only be started again. */
describe('CrashLoopError advice', () => {
  const cause = () => new WorkerExitedError({ workerId: 7, pid: 4242, exitCode: 3, signal: null }, '926 ms after it became ready');

  it('[H275] keeps "from outside clusterkit" for a kill soon after ready, and advises finding the sender, not fixing the script', () => {
    const how = "was killed by SIGKILL from outside clusterkit (kill -9, the OOM killer, or the worker's own code)";
    const killed = new WorkerExitedError({ workerId: 9, pid: 19250, exitCode: null, signal: 'SIGKILL' }, '92 ms after it became ready', { how, outsideSignal: 'SIGKILL' });
    const error = new CrashLoopError(0, 3, { cause: killed, reason: 'startup-failures', remainingSlots: 0 });
    // Before: "Last failure: worker 9 (pid 19250) was killed by SIGKILL 92 ms after it became ready. Fix that, then start it again."
    expect(error.message).toMatch(/Last failure: worker 9 \(pid 19250\) was killed by SIGKILL from outside clusterkit \(kill -9, the OOM killer, or the worker's own code\) 92 ms after it became ready\. Its output need not show an error: look for what sent the signal, then start it again\.$/);
    expect(error.message).not.toContain('Fix that');
  });

  it('says only "start it again" when no slot is left (the service is down)', () => {
    const error = new CrashLoopError(0, 3, { cause: cause(), reason: 'startup-failures', remainingSlots: 0 });
    expect(error.message).toMatch(/Last failure: worker 7 \(pid 4242\) exited with code 3 926 ms after it became ready\. Fix that, then start it again\.$/);
    expect(error.message).not.toContain('reload');
  });

  it('says how to restore the slot while other slots serve', () => {
    const error = new CrashLoopError(1, 11, { cause: cause(), reason: 'too-many-restarts', windowMs: 60_000, remainingSlots: 1 });
    expect(error.message).toMatch(/Fix that, then reload to restore the slot \(a reload that succeeds starts it again; the other workers keep serving\), or start again\.$/);
  });

  it('says the same for a memory-limit loop', () => {
    const memory = { limitBytes: 64 * 1024 * 1024, rssBytes: 80 * 1024 * 1024 };
    expect(new CrashLoopError(0, 3, { reason: 'memory-limit', memory, remainingSlots: 0 }).message).toMatch(/fix the leak, then start it again\.$/);
  });

  it('keeps both when it cannot tell', () => {
    expect(new CrashLoopError(0, 3, { cause: cause() }).message).toMatch(/Fix that, then start or reload again\.$/);
  });

  it('[H97] does not say the other workers keep serving when none of them is ready', () => {
    const error = new CrashLoopError(0, 3, { cause: cause(), reason: 'startup-failures', remainingSlots: 2, servingSlots: 0 });
    expect(error.message).toMatch(/Fix that, then start again \(no other worker is ready to serve: the 2 other slots are still starting or restarting\)\.$/);
    expect(error.message).not.toContain('keep serving');
  });

  it('says the start fails, not that the others keep serving, when the slot is one of the start and never was ready', () => {
    const error = new CrashLoopError(0, 3, { cause: cause(), reason: 'startup-failures', remainingSlots: 1, servingSlots: 1, failsStart: true });
    expect(error.message).toMatch(/Fix that, then start again \(the start fails with this slot: the workers that are ready are stopped too\)\.$/);
    expect(error.message).not.toContain('keep serving');
  });

  it('[H96] says exits with code 0 as exits, and a mix as what it was', () => {
    const exit = new WorkerExitedError({ workerId: 7, pid: 4242, exitCode: 0, signal: null }, '926 ms after it became ready');
    const exits = new CrashLoopError(0, 11, { cause: exit, reason: 'too-many-restarts', windowMs: 60_000, remainingSlots: 0, cleanExits: 11 });
    expect(exits.message).toBe(
      'Worker slot 0 exited with code 0 on its own 11 times within 60 s (restart.maxRestarts), so it is no longer restarted. Last exit: worker 7 (pid 4242) exited with code 0 926 ms after it became ready. Fix that, then start it again.',
    );
    const mixed = new CrashLoopError(0, 11, { cause: cause(), reason: 'too-many-restarts', windowMs: 60_000, remainingSlots: 0, cleanExits: 1 });
    expect(mixed.message).toMatch(/^Worker slot 0 ended unexpectedly 11 times \(10 crashes, 1 exit with code 0 on its own\) within 60 s \(restart\.maxRestarts\), so it is no longer restarted\. Last crash: worker 7 \(pid 4242\) exited with code 3 /);
  });
});
