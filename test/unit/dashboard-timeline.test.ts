import { describe, expect, it } from '@jest/globals';
// The page's own module, as the browser loads it.
// @ts-expect-error plain JavaScript served to the browser, no declarations
import { describeEvent, eventKind } from '../../src/cli/dashboard/page/timeline.js';

const worker = { workerId: 7, pid: 4242, slot: 1 };

describe('dashboard timeline', () => {
  it('tells the stops that did not go cleanly: a hung _destroy, a forced stop, a reload with failed workers, protocol errors', () => {
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 2250 })).toBe(
      'worker 7 (pid 4242, slot 1): _destroy did not finish in 2250 ms; the worker cut it short (exit 1)',
    );
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGINT', firstSignal: 'SIGINT', killed: 2, openRequests: 3 })).toBe('a second SIGINT forced the stop: 2 workers killed, 3 requests still open');
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGTERM', firstSignal: 'SIGTERM', killed: 1 })).toBe('a second SIGTERM forced the stop: 1 worker killed');
    // [H76] What happened, not "a second SIGINT": another signal started the stop, or none did (`clusterkit stop`).
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGINT', firstSignal: 'SIGTERM', killed: 1 })).toBe('SIGINT after SIGTERM forced the stop: 1 worker killed');
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGTERM', killed: 1 })).toBe('SIGTERM during the shutdown forced the stop: 1 worker killed');
    expect(describeEvent({ type: 'reloadComplete', replaced: 2, graceful: 1, failed: 1, killed: 0 })).toBe(
      'rolling reload complete: 2 workers replaced; old workers: 1 graceful, 1 failed, 0 killed',
    );
    // [H574] A slot with no worker running at its turn.
    expect(describeEvent({ type: 'reloadComplete', replaced: 1, vacant: 1, graceful: 1, failed: 0, killed: 0 })).toBe(
      "rolling reload complete: 1 worker replaced; old workers: 1 graceful, 0 failed, 0 killed; 1 old worker not stopped by the reload: it crashed or was killed before the reload stopped it (or had not started yet), and any worker started in its slot since the reload began runs the new code",
    );
    expect(describeEvent({ type: 'workerProtocolError', ...worker, dropped: 1, error: 'bad ping' })).toBe('worker 7 (pid 4242, slot 1) broke the protocol: 1 message dropped (bad ping)');
    expect(describeEvent({ type: 'stickyRefused', reason: 'no-sticky-worker', role: 'web', count: 3 })).toBe('3 sticky connections closed: no ready worker with role web serves sticky connections');
    expect(describeEvent({ type: 'stickyRefused', ...worker, reason: 'worker-refused', count: 1 })).toBe('worker 7 (pid 4242, slot 1) had no sticky server: 1 sticky connection closed; it gets no more');
    // A leaving worker with nothing to release says so, not "releases its 0 open connections".
    expect(describeEvent({ type: 'workerDrain', ...worker, connections: 0, spreadMs: 1000 })).toBe('worker 7 (pid 4242, slot 1) stops: no open connection to release');
    expect(describeEvent({ type: 'workerDrain', ...worker, connections: 2, spreadMs: 1000 })).toBe('worker 7 (pid 4242, slot 1) drains gradually: releases its 2 open connections one at a time over 1000 ms');
    expect(describeEvent({ type: 'workerSlowMessage', ...worker, readMs: 2345, bytes: 15 * 1024 * 1024, count: 1 })).toBe('worker 7 (pid 4242, slot 1) sent a message that kept the primary busy 2345 ms (about 15.0 MiB)');
    expect(describeEvent({ type: 'workerOutputLost', ...worker, bytes: 3 * 1024 * 1024 })).toBe('worker 7 (pid 4242, slot 1) exited with 3.0 MiB of its output not yet read: its last lines are lost');
    for (const type of ['workerDestroyTimeout', 'workerProtocolError', 'shutdownForced', 'workerDrain', 'workerChannelCorrupt', 'workerOutputLost']) expect(eventKind({ type }).tag).not.toBe('event');
    expect(describeEvent({ type: 'workerDrain', ...worker, connections: 23, spreadMs: 4000 })).toBe(
      'worker 7 (pid 4242, slot 1) drains gradually: releases its 23 open connections one at a time over 4000 ms',
    );
    expect(describeEvent({ type: 'workerChannelCorrupt', ...worker, error: 'Worker 7 (pid 4242) wrote bytes...' })).toBe('worker 7 (pid 4242, slot 1) killed: Worker 7 (pid 4242) wrote bytes...');
  });

  it('[H757] names the slots of a reload that stopWorker() removed, as the log line does; a scale-down\'s as before', () => {
    const base = { type: 'reloadComplete', replaced: 1, graceful: 1, failed: 0, killed: 0 };
    expect(describeEvent({ ...base, retired: 1 })).toBe('rolling reload complete: 1 worker replaced; old workers: 1 graceful, 0 failed, 0 killed; 1 not replaced: a scale-down removed its slot');
    expect(describeEvent({ ...base, retired: 1, retiredByStopWorker: 1 })).toBe('rolling reload complete: 1 worker replaced; old workers: 1 graceful, 0 failed, 0 killed; 1 not replaced: stopWorker() removed its slot');
    expect(describeEvent({ ...base, retired: 3, retiredByStopWorker: 1 })).toBe('rolling reload complete: 1 worker replaced; old workers: 1 graceful, 0 failed, 0 killed; 3 not replaced: a scale-down removed 2 of their slots, stopWorker() 1');
  });

  it('[H394] tells a worker killed silent with its heap near its limit as most likely garbage collection; a plain hang as before', () => {
    expect(describeEvent({ type: 'workerUnresponsive', ...worker, silentMs: 1526 })).toBe('worker 7 (pid 4242, slot 1) silent for 1526 ms: killed and replaced');
    expect(describeEvent({ type: 'workerUnresponsive', ...worker, silentMs: 1526, heapUsedBytes: 60 * 1048576, heapLimitBytes: 64 * 1048576 })).toBe(
      'worker 7 (pid 4242, slot 1) silent for 1526 ms, its heap at 60.0 MiB of 64.0 MiB (most likely garbage collection near its limit): killed and replaced',
    );
  });

  it('[H108] tells an exit with code 0 that left its stop unfinished as a failed stop, not as an exit asked for', () => {
    const exit = { type: 'workerExit', ...worker, code: 0, signal: null, expected: true };
    expect(describeEvent(exit)).toBe('worker 7 (pid 4242, slot 1) exited with code 0, as asked');
    expect(describeEvent({ ...exit, stopUnfinished: true })).toBe('worker 7 (pid 4242, slot 1) exited with code 0 before its stop finished: failed');
    expect(eventKind({ ...exit, stopUnfinished: true }).color).not.toBe(eventKind(exit).color);
  });

  it('[H296] tells a worker dead of its own fatal signal as such, not as a kill', () => {
    const exit = { type: 'workerExit', ...worker, code: null, expected: false };
    expect(describeEvent({ ...exit, signal: 'SIGABRT' })).toBe('worker 7 (pid 4242, slot 1) died of SIGABRT (a fatal error in the process itself)');
    expect(describeEvent({ ...exit, signal: 'SIGSEGV' })).toBe('worker 7 (pid 4242, slot 1) died of SIGSEGV (a fatal error in the process itself)');
    expect(describeEvent({ ...exit, signal: 'SIGKILL' })).toBe('worker 7 (pid 4242, slot 1) killed by SIGKILL');
  });

  it('[H350] tells a _destroy left almost no time as such, with what used the time kept for it, not as a _destroy too slow', () => {
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 600, reservedMs: 600 })).toBe(
      'worker 7 (pid 4242, slot 1): _destroy did not finish in 600 ms; the worker cut it short (exit 1)',
    );
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 3, reservedMs: 300, shortenedBy: 'blocked' })).toBe(
      'worker 7 (pid 4242, slot 1): _destroy was left 3.0 ms, not the 300 ms kept for it (used up by a held event loop), and did not finish (exit 1)',
    );
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 1, reservedMs: 800, shortenedBy: 'init' })).toBe(
      'worker 7 (pid 4242, slot 1): _destroy was left 1.0 ms, not the 800 ms kept for it (used up by waiting for _init), and did not finish (exit 1)',
    );
  });

  it('tells requests cut off and a plain script whose cleanup did not exit, and counts the cut requests of a reload', () => {
    expect(describeEvent({ type: 'workerRequestsCut', ...worker, openRequests: 2, timeoutMs: 7500 })).toBe(
      'worker 7 (pid 4242, slot 1) cut off 2 requests still open at its shutdown deadline (7500 ms; exit 1)',
    );
    expect(describeEvent({ type: 'workerRequestsCut', ...worker, openRequests: 1 })).toBe('worker 7 (pid 4242, slot 1) exited with 1 request still open: cut off');
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 750, signal: 'SIGINT' })).toBe(
      "worker 7 (pid 4242, slot 1): the script's SIGINT listener ran but the process did not exit in 750 ms (exit 1)",
    );
    expect(describeEvent({ type: 'reloadComplete', replaced: 1, graceful: 0, failed: 1, killed: 0, requestsCut: 1 })).toBe(
      'rolling reload complete: 1 worker replaced; old workers: 0 graceful, 1 failed, 0 killed, 1 request cut off',
    );
    expect(eventKind({ type: 'workerRequestsCut' }).tag).toBe('requests cut');
  });

  it('tells a scale from start to end, and a reload request that joined the one under way', () => {
    expect(describeEvent({ type: 'scale', from: 3, to: 1 })).toBe('scaling from 3 to 1 worker');
    expect(describeEvent({ type: 'scaleComplete', from: 3, to: 1, graceful: 1, failed: 1, killed: 0, requestsCut: 4 })).toBe(
      'scaling from 3 to 1 worker complete; stopped workers: 1 graceful, 1 failed, 0 killed, 4 requests cut off',
    );
    expect(describeEvent({ type: 'scaleComplete', from: 1, to: 2, graceful: 0, failed: 0, killed: 0, requestsCut: 0 })).toBe('scaling from 1 to 2 workers complete');
    expect(describeEvent({ type: 'reloadJoined' })).toBe('reload requested while a rolling reload is under way: joined to it');
    for (const type of ['scaleComplete', 'reloadJoined', 'reloadWaiting']) expect(eventKind({ type }).tag).not.toBe('event');
  });

  it('[H388] tells a reload a newer watched change cut short as superseded, not in a failure\'s red', () => {
    const superseded = { type: 'reloadFailed', error: 'src/app.js changed again while the replacement was starting', superseded: true };
    expect(describeEvent(superseded as never)).toBe('rolling reload superseded: src/app.js changed again while the replacement was starting');
    expect(eventKind(superseded as never)).toMatchObject({ tag: 'reload superseded', line: true });
    expect(eventKind(superseded as never).color).not.toBe(eventKind({ type: 'reloadFailed', error: 'x' } as never).color);
    expect(describeEvent({ type: 'reloadFailed', error: 'x' } as never)).toBe('reload failed: x');
  });

  it('[H386] tells a primary gone (stopped, or lost: killed) and a new primary answering under the name', () => {
    expect(describeEvent({ type: 'primaryGone', at: 0, pid: 311, how: 'stopped' })).toBe('primary (pid 311) gone: stopped');
    expect(describeEvent({ type: 'primaryGone', at: 0, pid: 311, how: 'lost' })).toBe(
      'primary (pid 311) gone: connection lost without a shutdown (killed or crashed); its last events may be missing',
    );
    expect(describeEvent({ type: 'primaryStarted', at: 0, pid: 412, previousPid: 311 })).toBe('new primary (pid 412) answers, after pid 311: its workers and events start over');
    expect(eventKind({ type: 'primaryGone', how: 'lost' })).toMatchObject({ tag: 'primary gone', line: true });
    expect(eventKind({ type: 'primaryGone', how: 'stopped' }).color).not.toBe(eventKind({ type: 'primaryGone', how: 'lost' }).color);
    expect(eventKind({ type: 'primaryStarted' })).toMatchObject({ tag: 'primary started', line: true });
  });

  it('[H163] tells a worker stopped over its memory hard bound apart from a replacement', () => {
    const limit = { type: 'workerMemoryLimit', ...worker, rssBytes: 300 * 1024 * 1024, limitBytes: 100 * 1024 * 1024 };
    expect(describeEvent(limit)).toMatch(/over the memory limit \(.+ > .+\): replaced$/);
    expect(describeEvent({ ...limit, restartedInPlace: true })).toMatch(
      /^worker 7 \(pid 4242, slot 1\) grew by the memory limit again \(.+\) while its replacement was not ready: stopped, restarted in place$/,
    );
  });
});
