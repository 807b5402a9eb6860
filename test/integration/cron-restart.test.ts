/**
 * `cronRestart` (PM2's `cron_restart`, H377): a rolling reload at each match of a cron
 * expression, on a schedule that stops with the shutdown and keeps no process alive.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError } from '../../src/index.js';
import { CronRestart, cronRestartOption, cronScheduleWarnings, nextCronRun } from '../../src/primary/lifecycle/cron-restart.js';
import { CronScheduleError } from '../../src/errors.js';
import { checkCronRestart } from '../../src/cli/arg-values.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { testOptions } from '../helpers/primary.js';
import { jsonLines, spawnScript } from '../helpers/spawn.js';
import { onCleanup } from '../helpers/cleanup.js';

/** What `call` throws. */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('cronRestart', () => {
  it('[H377] takes 5 fields, 6 with seconds first, and nicknames; refuses the rest at the constructor with the parser\'s error as cause and an example', () => {
    for (const expression of ['0 3 * * *', '*/15 * * * *', '* * * * * *', '30 0 3 * * MON-FRI', '@daily']) expect(cronRestartOption(expression, 'cronRestart')).toBe(expression);
    expect(cronRestartOption(undefined, 'cronRestart')).toBeUndefined();
    const cases: Array<[unknown, RegExp]> = [
      // Counted by us: croner's words name a 7-field form it refuses here (retest t38 L1).
      ['0 3 * *', /it has 4 fields: 5 or 6 are read \(no year field\)/],
      ['@reboot', /@reboot is no schedule/],
      ['61 * * * *', /Invalid value for minute: 61/],
      // A year field: PM2's 5 or 6 only.
      ['0 0 3 * * * 2027', /it has 7 fields: 5 or 6 are read/],
      ['0 0 30 2 *', /matches no date to come/],
      [5, /Received 5$/],
    ];
    for (const [value, said] of cases) {
      const error = thrown(() => new ClusterPrimary(testOptions('workers/ready.ts', { cronRestart: value as string })));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cronRestart' });
      const { message, cause } = error as InvalidOptionError;
      expect(message).toMatch(/^The "cronRestart" option must be a cron expression of 5 fields \(minute hour day-of-month month day-of-week\) or 6 \(seconds first\), read in the primary's local time zone, such as '0 3 \* \* \*' \(every day at 03:00\)/);
      expect(message).toMatch(said);
      // The parser's own error, where it refused the expression.
      if (value === '61 * * * *') expect(cause).toBeInstanceOf(Error);
    }
    // PM2's key names the option.
    expect(thrown(() => new ClusterPrimary(testOptions('workers/ready.ts', { cron_restart: '0 3 * * *' } as never)))).toMatchObject({ message: expect.stringContaining('cronRestart') });
  });

  it('[H377] the CLI refuses a bad expression with a usage error naming the flag or key, the parser\'s error as cause', () => {
    expect(checkCronRestart('0 3 * * *', '--cron-restart', 'run')).toBe('0 3 * * *');
    const error = thrown(() => checkCronRestart('0 25 * * *', '--cron-restart', 'run'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'ERR_USAGE', command: 'run', cause: expect.any(Error) });
    expect((error as Error).message).toBe(
      "--cron-restart must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), read in the primary's local time zone, such as '0 3 * * *' (every day at 03:00); the cron parser (croner) says: Invalid value for hour: 25. Received \"0 25 * * *\".",
    );
    expect(thrown(() => checkCronRestart(3, '"apps[0].cron_restart"', 'run'))).toMatchObject({ message: expect.stringMatching(/^"apps\[0\]\.cron_restart" must be a cron expression .*it is no string\. Received 3\.$/) });
  });

  it('[H377] the next run is in local time with its offset; a stopped schedule has none and never starts again', () => {
    expect(nextCronRun('0 3 * * *', new Date(2026, 0, 1, 12, 0, 0))).toMatch(/^2026-01-02 03:00:00 [+-]\d\d:\d\d$/);
    const schedule = new CronRestart('* * * * * *', () => {});
    onCleanup(() => schedule.stop());
    schedule.start();
    expect(schedule.nextRun()).toBeInstanceOf(Date);
    schedule.stop();
    expect(schedule.nextRun()).toBeNull();
    schedule.start();
    expect(schedule.nextRun()).toBeNull();
  });

  it('[H377] the schedule goes on after a run that throws', async () => {
    let runs = 0;
    const second = new Promise<void>((resolve) => {
      const schedule = new CronRestart('* * * * * *', () => {
        runs++;
        if (runs === 1) throw new Error('a first run that throws');
        resolve();
      });
      onCleanup(() => schedule.stop());
      schedule.start();
    });
    await second;
    expect(runs).toBe(2);
  });

  // Before: a schedule every second was taken without a word, and reloaded the workers back to back for good.
  it('[H490] a schedule whose matches come less than a minute apart is told (the shortest interval), one a minute apart or more is not', () => {
    const from = new Date(2026, 0, 1, 12, 0, 30);
    const cases: Array<[string, number | undefined]> = [
      ['* * * * * *', 1_000],
      ['*/30 * * * * *', 30_000],
      // Two matches a second apart each minute, whatever "now" is.
      ['0,59 * * * * *', 1_000],
      ['* * * * *', undefined],
      ['0 3 * * *', undefined],
      ['@daily', undefined],
    ];
    for (const [expression, intervalMs] of cases) {
      const warnings = cronScheduleWarnings(expression, undefined, from);
      if (intervalMs === undefined) {
        expect(warnings).toEqual([]);
        continue;
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBeInstanceOf(CronScheduleError);
      expect(warnings[0]).toMatchObject({ code: 'ERR_CRON_SCHEDULE', reason: 'frequent', expression, intervalMs });
      expect(warnings[0]!.message).toContain(`The schedule '${expression}' (cronRestart) matches as little as ${intervalMs / 1_000} s apart: each match is a full rolling reload`);
      expect(warnings[0]!.message).toMatch(/Give a schedule in minutes or hours, such as '0 3 \* \* \*' \(every day at 03:00\): PM2's cron_restart serves for daily restarts\.$/);
    }
  });

  // Before: TZ=Nowhere/Bogus left the local time, and so the schedule, in UTC without a word.
  it('[H491] a TZ that leaves the local time in UTC is told (a name ICU does not know, or knows in another case); a zone Node applies, UTC or an unset TZ is not', async () => {
    const values = ['Nowhere/Bogus', 'europe/paris', 'Z', ':Europe/Paris', 'Europe/Paris', 'UTC', 'utc', 'UTC0', 'JST-9', 'Africa/Abidjan', ''];
    const run = spawnScript('test/fixtures/cron-time-zones.ts', { args: values });
    expect(await run.exited()).toBe(0);
    const told = jsonLines<{ timeZone: string; reasons: string[] }>(run.stdout()).filter((line) => line.reasons.includes('time-zone')).map((line) => line.timeZone);
    expect(told).toEqual(['Nowhere/Bogus', 'europe/paris', 'Z']);
    const warning = new CronScheduleError('0 3 * * *', { reason: 'time-zone', timeZone: 'Nowhere/Bogus' });
    expect(warning).toMatchObject({ code: 'ERR_CRON_SCHEDULE', reason: 'time-zone', timeZone: 'Nowhere/Bogus', intervalMs: undefined });
    expect(warning.message).toMatch(/^TZ is "Nowhere\/Bogus", no time zone the primary's local time can use: that time is UTC, and the schedule '0 3 \* \* \*' \(cronRestart\) runs in UTC\./);
  });

  it('[H377] a primary with cronRestart every second reloads on schedule (new pids, "its schedule asked for it"), and exits by itself after its shutdown', async () => {
    const run = spawnScript('test/fixtures/cron-restart-primary.ts');
    expect(await run.exited()).toBe(0);
    const [result] = jsonLines<{ event: string; before: number[]; after: number[]; requesters: string[] }>(run.stdout()).filter((line) => line.event === 'result');
    expect(result).toBeDefined();
    expect(result!.before).toHaveLength(2);
    expect(result!.after).toHaveLength(2);
    expect(result!.after.some((pid) => result!.before.includes(pid))).toBe(false);
    expect(result!.requesters.length).toBeGreaterThanOrEqual(1);
    expect(new Set(result!.requesters)).toEqual(new Set(['schedule']));
    expect(run.stderr()).toContain('rolling reload started: its schedule asked for it (cronRestart)');
  });
});
