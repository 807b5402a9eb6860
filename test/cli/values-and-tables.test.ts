import { describe, expect, it } from '@jest/globals';
import { parseCount, parseDuration, parseSizeMb, parseWorkers } from '../../src/cli/arg-values.js';
import { formatBytes, formatDuration, formatList, formatSilence, formatStatus, formatStopped } from '../../src/cli/format-status.js';
import { UsageError } from '../../src/cli/usage-error.js';
// The dashboard page's own module, as the browser loads it.
// @ts-expect-error plain JavaScript served to the browser, no declarations
import { formatBytes as formatPageBytes } from '../../src/cli/dashboard/page/format.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import type { WorkerStats } from '../../src/primary/features/worker-stats.js';

describe('option values', () => {
  it('parses durations with units; a bare number is milliseconds', () => {
    expect(parseDuration('10s', '--x', 'run')).toBe(10_000);
    expect(parseDuration('500ms', '--x', 'run')).toBe(500);
    expect(parseDuration('1.5m', '--x', 'run')).toBe(90_000);
    expect(parseDuration('1h', '--x', 'run')).toBe(3_600_000);
    expect(parseDuration('250', '--x', 'run')).toBe(250);
    // defineConfig's type accepts '5 s' (`${number}s`): so does the parser.
    expect(parseDuration('5 s', '--x', 'run')).toBe(5_000);
    for (const bad of ['', '10x', 's', '0s', '-1s', '1e3', '0.1ms']) expect(() => parseDuration(bad, '--x', 'run')).toThrow(UsageError);
    expect(() => parseDuration('soon', '--shutdown-timeout', 'run')).toThrow('--shutdown-timeout must be a duration such as 10s, 500ms or 2m. Received "soon".');
    // 0 is a duration, only not one these flags take.
    expect(() => parseDuration('0', '--restart-window', 'run')).toThrow('--restart-window must be more than 0. Received "0".');
    expect(() => parseDuration('0s', '--restart-window', 'run')).toThrow('--restart-window must be more than 0. Received "0s".');
  });

  it('takes 0 for a duration flag whose 0 turns something off (--gradual-drain), and only those', () => {
    for (const zero of ['0', '0ms', '0s', '0.0m']) expect(parseDuration(zero, '--gradual-drain', 'run', 'gradualDrain')).toBe(0);
    expect(parseDuration('250ms', '--gradual-drain', 'run', 'gradualDrain')).toBe(250);
    expect(() => parseDuration('-1', '--gradual-drain', 'run', 'gradualDrain')).toThrow('--gradual-drain must be a duration such as 10s, 500ms or 2m. Received "-1".');
    expect(() => parseDuration('abc', '--gradual-drain', 'run', 'gradualDrain')).toThrow('--gradual-drain must be a duration such as 10s, 500ms or 2m. Received "abc".');
    expect(() => parseDuration('600h', '--gradual-drain', 'run', 'gradualDrain')).toThrow('--gradual-drain must be at most 2147483647 ms (596h, about 24.8 days: the longest a Node timer can wait). Received "600h".');
    // Without the min, as before.
    expect(() => parseDuration('0ms', '--shutdown-timeout', 'run')).toThrow('--shutdown-timeout must be more than 0. Received "0ms".');
  });

  it('refuses a fraction of a millisecond instead of rounding it (0.4ms is not 0, i.e. off), and only that', () => {
    expect(() => parseDuration('0.4ms', '--gradual-drain', 'run', 'gradualDrain')).toThrow('--gradual-drain must be at least 1ms, or 0 to turn it off. Received "0.4ms".');
    expect(() => parseDuration('0.4ms', '--startup-window', 'run', 'startupWindow')).toThrow(
      '--startup-window must be at least 1ms, or 0 (only exits before ready are failed starts). Received "0.4ms".',
    );
    expect(() => parseDuration('0.0000001h', '--shutdown-timeout', 'run')).toThrow('--shutdown-timeout must be at least 1ms. Received "0.0000001h".');
    // Far below what a double can hold: still not 0.
    expect(() => parseDuration(`0.${'0'.repeat(400)}1`, '--gradual-drain', 'run', 'gradualDrain')).toThrow('--gradual-drain must be at least 1ms, or 0 to turn it off.');
    for (const fraction of ['1.5', '1.5ms', '1.0005s', '1.0000000000000000001', '2.00000001h']) {
      expect(() => parseDuration(fraction, '--gradual-drain', 'run', 'gradualDrain')).toThrow(`--gradual-drain must be a whole number of milliseconds. Received "${fraction}".`);
    }
    // Whole milliseconds once converted, in decimal (1.1 * 1000 is 1100.0000000000002 in binary).
    const whole: Array<[string, number]> = [['1.5s', 1_500], ['0.5m', 30_000], ['1.1s', 1_100], ['0.001s', 1], ['0.00001h', 36], ['1.000', 1], ['2.5h', 9_000_000]];
    for (const [value, ms] of whole) expect(parseDuration(value, '--gradual-drain', 'run', 'gradualDrain')).toBe(ms);
    for (const zero of ['0', '0.0', '00.000ms']) expect(parseDuration(zero, '--startup-window', 'run', 'startupWindow')).toBe(0);
  });

  it('parses memory sizes into whole MiB; a bare number is MiB', () => {
    expect(parseSizeMb('512M', '--m', 'run')).toBe(512);
    expect(parseSizeMb('512MB', '--m', 'run')).toBe(512);
    expect(parseSizeMb('1G', '--m', 'run')).toBe(1024);
    expect(parseSizeMb('1.5gib', '--m', 'run')).toBe(1536);
    expect(parseSizeMb('1536K', '--m', 'run')).toBe(2);
    expect(parseSizeMb('300', '--m', 'run')).toBe(300);
    for (const bad of ['', 'lots', '0M', '12T', '-5M']) expect(() => parseSizeMb(bad, '--m', 'run')).toThrow(UsageError);
  });

  it('parses worker counts: a positive integer, auto, or max', () => {
    expect(parseWorkers('4', '--workers', 'run')).toBe(4);
    expect(parseWorkers('auto', '--workers', 'run')).toBe('auto');
    expect(parseWorkers('max', '--workers', 'run')).toBe('max');
    for (const bad of ['0', '-1', '2.5', 'all', '', '99999999999999999999']) expect(() => parseWorkers(bad, '--workers', 'run')).toThrow('--workers must be a positive integer, "auto" or "max"');
    expect(parseCount('3', 'The worker count', 'scale')).toBe(3);
    expect(() => parseCount('03x', 'The worker count', 'scale')).toThrow('The worker count must be a positive integer. Received "03x".');
  });
});

describe('status rendering', () => {
  const status: ClusterStatus = {
    name: 'api',
    pid: 100,
    state: 'running',
    startedAt: 0,
    uptimeMs: 192_000,
    script: '/srv/api/server.js',
    targetWorkers: 2,
    nodeVersion: 'v20.19.0',
    workers: [
      {
        id: 1,
        pid: 101,
        slot: 0,
        name: undefined,
        roles: [],
        state: 'ready',
        uptimeMs: 192_000,
        restarts: 0,
        crashes: 0,
        rssBytes: 50 * 1024 * 1024,
        heapUsedBytes: 8.25 * 1024 * 1024,
        heapTotalBytes: 16 * 1024 * 1024,
        eventLoopDelayMs: 0.42,
        eventLoopDelayP99Ms: 1.5,
        cpuPercent: 3.25,
        healthAgeMs: 420,
        silentMs: 420,
        isSilent: false,
        isPaused: false,
        isClosed: false,
        messagesIn: 190,
        messagesOut: 189,
        pending: 0,
        protocolErrors: 0,
      },
      {
        id: 3,
        pid: 103,
        slot: 1,
        name: undefined,
        roles: [],
        state: 'starting',
        uptimeMs: 300,
        restarts: 1,
        crashes: 1,
        rssBytes: undefined,
        heapUsedBytes: undefined,
        heapTotalBytes: undefined,
        eventLoopDelayMs: undefined,
        eventLoopDelayP99Ms: undefined,
        cpuPercent: undefined,
        healthAgeMs: undefined,
        silentMs: undefined,
        isSilent: false,
        isPaused: false,
        isClosed: false,
        messagesIn: 1,
        messagesOut: 0,
        pending: 0,
        protocolErrors: 0,
      },
    ],
    protocolErrors: 0,
  };

  it('shows one row per worker, with placeholders before the first heartbeat', () => {
    expect(formatStatus(status)).toBe(
      'cluster api  pid 100  running  up 3m 12s  workers 1/2 ready (1 starting)  node v20.19.0\n' +
        'script /srv/api/server.js\n' +
        '\n' +
        'id  pid  slot  state     uptime  restarts  crashes       rss     heap  loop mean/p99   cpu  msgs in*  msgs out*\n' +
        ' 1  101     0  ready     3m 12s         0        0  50.0 MiB  8.3 MiB   0.4 / 1.5 ms  3.3%       190        189\n' +
        ' 3  103     1  starting  300ms          1        1         -        -              -     -         1          0\n' +
        '* IPC messages to and from the worker, heartbeats included\n',
    );
    expect(formatList([status])).toBe('name  pid  state    workers                 uptime  script\napi   100  running  1/2 ready (1 starting)  3m 12s  /srv/api/server.js\n');
    expect(formatList([])).toBe('No cluster is running.\n');
  });

  it('[H351] adds a name column after slot when a worker or a given-up slot has a name: - for the others, and for a name that is no string', () => {
    const [ready, starting] = status.workers;
    expect(formatStatus({ ...status, workers: [{ ...ready!, name: 'cache' }, starting!] })).toContain(
      'id  pid  slot  name   state     uptime  restarts  crashes       rss     heap  loop mean/p99   cpu  msgs in*  msgs out*\n' +
        ' 1  101     0  cache  ready     3m 12s         0        0  50.0 MiB  8.3 MiB   0.4 / 1.5 ms  3.3%       190        189\n' +
        ' 3  103     1  -      starting  300ms          1        1         -        -              -     -         1          0\n',
    );
    const given = { slot: 2, name: 'reports', state: 'errored', since: 0, givenUpMs: 6_000, restarts: 2, crashes: 3, failures: 3, reason: 'startup-failures', lastFailure: 'threw' };
    expect(formatStatus({ ...status, givenUpSlots: [given] } as ClusterStatus)).toMatch(/\nid +pid +slot +name +state [^\n]*\n 1 +101 +0 +- +ready [^\n]*\n 3 +103 +1 +- +starting [^\n]*\n - +- +2 +reports +errored /);
    // None named (or a value that is no name, from an odd primary): the table of before.
    for (const odd of [undefined, '', 7, { x: 1 }]) expect(formatStatus({ ...status, workers: [{ ...ready!, name: odd as never }, starting!] })).toContain('\nid  pid  slot  state ');
  });

  it('[H362] adds a roles column (after name, or after slot alone) when a worker or a given-up slot has roles, cut at 32 characters with a note; - for none and for a value that is no list', () => {
    const [ready, starting] = status.workers;
    expect(formatStatus({ ...status, workers: [{ ...ready!, roles: ['batch', 'io'] }, starting!] })).toContain(
      'id  pid  slot  roles     state     uptime  restarts  crashes       rss     heap  loop mean/p99   cpu  msgs in*  msgs out*\n' +
        ' 1  101     0  batch,io  ready     3m 12s         0        0  50.0 MiB  8.3 MiB   0.4 / 1.5 ms  3.3%       190        189\n' +
        ' 3  103     1  -         starting  300ms          1        1         -        -              -     -         1          0\n',
    );
    const long = ['a'.repeat(20), 'b'.repeat(20)];
    const both = formatStatus({ ...status, workers: [{ ...ready!, name: 'cache', roles: long }, starting!] });
    expect(both).toMatch(new RegExp(`\\nid +pid +slot +name +roles +state [^\\n]*\\n 1 +101 +0 +cache +${'a'.repeat(20)},${'b'.repeat(10)}\u2026 +ready `));
    expect(both).toContain('roles cut at 32 characters (\u2026): --json lists every role\n');
    // Cut at whole characters: never half an emoji.
    expect(formatStatus({ ...status, workers: [{ ...ready!, roles: ['\u{1F600}'.repeat(40)] }, starting!] })).toContain(` ${'\u{1F600}'.repeat(31)}\u2026 `);
    // Exactly 32: whole, no note.
    const fits = formatStatus({ ...status, workers: [{ ...ready!, roles: ['r'.repeat(32)] }, starting!] });
    expect(fits).toContain(` ${'r'.repeat(32)}  ready `);
    expect(fits).not.toContain('roles cut');
    const given = { slot: 2, name: undefined, roles: ['reports'], state: 'errored', since: 0, givenUpMs: 6_000, restarts: 2, crashes: 3, failures: 3, reason: 'startup-failures', lastFailure: 'threw' };
    expect(formatStatus({ ...status, givenUpSlots: [given] } as ClusterStatus)).toMatch(/\nid +pid +slot +roles +state [^\n]*\n 1 +101 +0 +- +ready [^\n]*\n 3 +103 +1 +- +starting [^\n]*\n - +- +2 +reports +errored /);
    // None with roles (or a value that is no list, from an odd or older primary): the table of before.
    for (const odd of [undefined, [], [''], 'batch', [7], { x: 1 }]) expect(formatStatus({ ...status, workers: [{ ...ready!, roles: odd as never }, starting!] })).toContain('\nid  pid  slot  state ');
  });

  it('[H66] shows a silent worker as silent, for how long, without the loop delay and CPU of its last answer', () => {
    const [ready, starting] = status.workers as [WorkerStats, WorkerStats];
    const silent = { ...ready, id: 2, pid: 102, slot: 1, silentMs: 5_240, healthAgeMs: 5_300, isSilent: true };
    const text = formatStatus({ ...status, workers: [ready, silent] });
    expect(text).toBe(
      'cluster api  pid 100  running  up 3m 12s  workers 1/2 ready (1 silent)  node v20.19.0\n' +
        'script /srv/api/server.js\n' +
        '\n' +
        'id  pid  slot  state        uptime  restarts  crashes       rss     heap  loop mean/p99   cpu  msgs in*  msgs out*\n' +
        ' 1  101     0  ready        3m 12s         0        0  50.0 MiB  8.3 MiB   0.4 / 1.5 ms  3.3%       190        189\n' +
        ' 2  102     1  silent 5.2s  3m 12s         0        0  50.0 MiB  8.3 MiB              -     -       190        189\n' +
        '* IPC messages to and from the worker, heartbeats included\n' +
        'silent: no answer to the heartbeat for that long (a blocked event loop?); loop and cpu unknown until it answers\n',
    );
    expect(formatStatus({ ...status, workers: [{ ...silent, silentMs: 125_000 }] })).toContain(' silent 2m 5s ');
    // Only a ready worker's silence counts, and only `true` (a primary of an older clusterkit sends nothing).
    expect(formatStatus({ ...status, workers: [{ ...starting, isSilent: true }] })).not.toContain('silent');
    for (const odd of [undefined, 'yes', 1]) expect(formatStatus({ ...status, workers: [{ ...silent, isSilent: odd as never }] })).not.toContain('silent');
    for (const odd of [undefined, Number.NaN, 'lots']) expect(formatSilence(odd)).toBe('silent');
  });

  it('[H413] shows a silent worker\'s CPU when the primary measured it (isCpuMeasured), and says so; `-` from a primary that does not say', () => {
    const [ready] = status.workers as [WorkerStats, WorkerStats];
    const silent = { ...ready, id: 2, pid: 102, slot: 1, silentMs: 5_240, healthAgeMs: 5_300, isSilent: true, cpuPercent: 99.2 };
    const measured = formatStatus({ ...status, workers: [ready, { ...silent, isCpuMeasured: true }] });
    expect(measured).toMatch(/\n 2 +102 +1 +silent 5\.2s .* - +99\.2% +190 +189\n/);
    expect(measured).toContain('silent: no answer to the heartbeat for that long (a blocked event loop?); loop unknown until it answers, cpu as the primary reads it\n');
    // Not measured, or an older primary (no field, or not `true`): the stale figure is not shown.
    for (const odd of [false, undefined, 'yes', 1]) {
      const text = formatStatus({ ...status, workers: [ready, { ...silent, isCpuMeasured: odd as never }] });
      expect(text).toMatch(/\n 2 +102 +1 +silent 5\.2s .* - +- +190 +189\n/);
      expect(text).toContain('loop and cpu unknown until it answers\n');
    }
  });

  it('[H494] counts a worker that closed every server it listened on as closed, not ready, as /readyz does', () => {
    const [ready] = status.workers as [WorkerStats, WorkerStats];
    const closed = { ...ready, id: 2, pid: 102, slot: 1, isClosed: true };
    const text = formatStatus({ ...status, workers: [ready, closed] });
    expect(text).toContain('workers 1/2 ready (1 closed)');
    expect(text).toMatch(/\n 2 +102 +1 +closed +3m 12s /);
    // An older primary sends no such field: ready as before.
    expect(formatStatus({ ...status, workers: [ready, { ...closed, isClosed: undefined as never }] })).toContain('workers 2/2 ');
  });

  it('[H327][H482] shows a silent worker whose process is stopped (kill -STOP) as stopped, silent for how long, with a note of what resumes it', () => {
    const [ready] = status.workers as [WorkerStats, WorkerStats];
    const silent = { ...ready, id: 2, pid: 102, slot: 1, silentMs: 5_840, healthAgeMs: 5_900, isSilent: true };
    const stopped = { ...silent, id: 3, pid: 103, slot: 2, isPaused: true };
    const text = formatStatus({ ...status, targetWorkers: 3, workers: [ready, stopped] });
    expect(text).toBe(
      'cluster api  pid 100  running  up 3m 12s  workers 1/3 ready (1 stopped)  node v20.19.0\n' +
        'script /srv/api/server.js\n' +
        '\n' +
        'id  pid  slot  state                 uptime  restarts  crashes       rss     heap  loop mean/p99   cpu  msgs in*  msgs out*\n' +
        ' 1  101     0  ready                 3m 12s         0        0  50.0 MiB  8.3 MiB   0.4 / 1.5 ms  3.3%       190        189\n' +
        ' 3  103     2  stopped, silent 5.8s  3m 12s         0        0  50.0 MiB  8.3 MiB              -     -       190        189\n' +
        '* IPC messages to and from the worker, heartbeats included\n' +
        'stopped: its process is stopped (kill -STOP or a debugger; kill -CONT resumes it), not blocked, silent since its last answer; the heartbeat kills it at its timeout unless resumed\n',
    );
    // Beside a blocked one: both words, both notes.
    const both = formatStatus({ ...status, targetWorkers: 3, workers: [ready, silent, stopped] });
    expect(both).toContain('workers 1/3 ready (1 silent, 1 stopped)');
    expect(both).toContain('\nsilent: no answer');
    expect(both).toContain('\nstopped: its process is stopped');
    // Only a silent worker's `true` counts: a worker that answers is ready, and an older primary sends no field.
    expect(formatStatus({ ...status, workers: [{ ...ready, isPaused: true }] })).not.toContain('stopped');
    for (const odd of [undefined, 'yes', 1]) expect(formatStatus({ ...status, workers: [{ ...stopped, isPaused: odd as never }] })).toContain(' silent 5.8s ');
    expect(formatStopped(125_000)).toBe('stopped, silent 2m 5s');
  });

  it('[H338] gives memory in MiB, the unit of the memory limit (show, --max-memory, the log\'s memory lines), never MB', () => {
    const [ready] = status.workers as [WorkerStats, WorkerStats];
    const row = formatStatus({ ...status, workers: [{ ...ready, rssBytes: 157 * 1024 * 1024, heapUsedBytes: 48.2 * 1024 * 1024 }] });
    expect(row).toMatch(/ 157 MiB {2}48\.2 MiB /);
    expect(row).not.toMatch(/\bMB\b/);
    expect([200 * 1024 * 1024, 99.94 * 1024 * 1024].map(formatBytes)).toEqual(['200 MiB', '99.9 MiB']);
    // The dashboard's page, in the same unit.
    expect([undefined, 157 * 1024 * 1024, 12 * 1024 * 1024 * 1024].map(formatPageBytes)).toEqual(['-', '157 MiB', '12.0 GiB']);
  });

  it('formats durations and sizes compactly', () => {
    expect([450, 12_000, 192_000, 7_500_000, 97_200_000].map(formatDuration)).toEqual(['450ms', '12s', '3m 12s', '2h 5m', '1d 3h']);
    expect([undefined, 1024 * 1024 * 1.25, 1024 * 1024 * 512].map(formatBytes)).toEqual(['-', '1.3 MiB', '512 MiB']);
  });
});
