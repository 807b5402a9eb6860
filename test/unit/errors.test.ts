import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import * as api from '../../src/index.js';
import { ClusterKitError } from '../../src/errors.js';

function documentedCodes(): Map<string, string> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(\w+)` \| `(ERR_\w+)` \|/gm)];
  return new Map(rows.map((row) => [row[1]!, row[2]!]));
}

type ErrorClass = new (...args: never[]) => ClusterKitError;

function exportedErrorClasses(): Array<[string, ErrorClass]> {
  const entries = Object.entries(api as Record<string, unknown>);
  return entries.filter((entry): entry is [string, ErrorClass] => {
    const value = entry[1];
    return typeof value === 'function' && value.prototype instanceof ClusterKitError;
  });
}

describe('error catalogue', () => {
  it('documents every exported error class with its code, and nothing else', () => {
    const documented = documentedCodes();
    const exported = new Map(
      exportedErrorClasses().map(([name, ErrorClass]) => {
        // `code` and `name` are instance fields: build one to read them.
        const probe = Reflect.construct(ErrorClass, probeArguments(name)) as ClusterKitError;
        expect(probe.name).toBe(name);
        expect(probe).toBeInstanceOf(Error);
        return [name, probe.code] as const;
      }),
    );
    expect(exported).toEqual(documented);
  });

  it('gives every code a unique value and keeps the cause', () => {
    const codes = [...documentedCodes().values()];
    expect(new Set(codes).size).toBe(codes.length);
    const cause = new Error('root');
    expect(new api.ReloadError('failed', { cause }).cause).toBe(cause);
    expect(new api.WorkerExitedError({ workerId: 1, pid: 2, exitCode: null, signal: 'SIGKILL' }, 'before x', { cause }).cause).toBe(cause);
  });

  it('writes messages that say what happened and what to do', () => {
    const exited = new api.WorkerExitedError({ workerId: 3, pid: 42, exitCode: null, signal: 'SIGKILL' }, 'before it replied to "greet"');
    expect(exited.message).toBe('Worker 3 (pid 42) was killed by SIGKILL before it replied to "greet". The request was not answered; retry it on another worker if it is safe to repeat.');
    expect(new api.InvalidOptionError('shutdownTimeoutMs', 'a positive integer', -1).message).toBe('The "shutdownTimeoutMs" option must be a positive integer. Received -1');
  });
});

/** Plausible constructor arguments for each class, so the test can read instance fields. */
function probeArguments(name: string): unknown[] {
  const exit = { workerId: 1, pid: 1, exitCode: 1, signal: null };
  const byName: Record<string, unknown[]> = {
    InvalidOptionError: ['x', 'y', 1],
    NotSerializableError: ['payload', 'reason'],
    MessageTooLargeError: ['t', 2, 1],
    MessageTimeoutError: ['t', 1, 'the primary'],
    StoreFullError: ['key', 'maxStoreBytes', 100, 90, 2, 20],
    StoreWatchLimitError: ['key', 'maxStoreKeys', 10, 10, 40],
    StoreWatcherError: ['key', false, { cause: new Error('boom') }],
    NotificationHandlerError: ['tick', 'worker 2 (pid 42)', false, 2, { cause: new Error('boom') }],
    LoggerError: ['warn', false, { cause: new Error('log sink closed') }],
    RemoteError: ['t', 'the primary', { name: 'Error', message: 'm' }],
    NoHandlerError: ['t', 'the primary'],
    WorkerExitedError: [exit, 'before'],
    PrimaryDisconnectedError: ['before'],
    WorkerStartupError: [1, 'exited', 'm'],
    CrashLoopError: [0, 3],
    BackpressureError: ['the primary', 1],
    HookTimeoutError: ['_destroy', 1],
    NamedWorkerStoppedError: [['cache'], 1, 3],
    NotAWorkerError: [],
    WorkerUnresponsiveError: ['worker 1 (pid 2)', 3000, '3.0 s'],
    WorkerChannelClosedError: ['worker 1 (pid 2)', 1000],
    ProtocolError: ['worker 1 (pid 2)', 'bad-reply', '$ping'],
    ConfigUnloadableError: [['clusterkit.config.ts'], 'ParseError: Unexpected token'],
    CronScheduleError: ['* * * * * *', { reason: 'frequent', intervalMs: 1_000 }],
    MetricsScrapeError: ['worker 2 (pid 4242)', 'threw', 5_000, { cause: new Error('boom') }],
  };
  return byName[name] ?? ['message'];
}
