/**
 * [H243] `clusterkit show`'s text of the config keys a primary says it did not use: the entries
 * come from another process, so one of another shape is left out and control characters are
 * escaped, never a crash nor a forged line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { formatDescription, redactDescription } from '../../src/cli/format-settings.js';

function described(ignoredPm2Keys: unknown): ClusterDescription {
  const status = { name: 'odd', pid: 1, state: 'running', startedAt: 0, uptimeMs: 1, script: 'x.js', targetWorkers: 0, nodeVersion: 'v20.0.0', workers: [], protocolErrors: 0 };
  return { ...status, settings: { execMode: 'cluster', envNames: [], ignoredPm2Keys } } as unknown as ClusterDescription;
}

describe('[H243] show: the keys not used', () => {
  it('[H243] leaves out entries of another shape (and a missing list, from an older primary), escapes control characters, and files an unknown key, even __proto__, under "not used"', () => {
    expect(formatDescription(described(undefined))).toContain("\nlog files         none: the output goes to the primary's stdout and stderr (clusterkit logs odd); --output, --error, --log (outFile, errorFile, logFile) write it to files\n");
    expect(formatDescription(described('out_file'))).not.toContain('not used');
    const text = formatDescription(
      described([
        null,
        { key: 'out_file', value: 5, instead: 'x' },
        { key: '__proto__', value: '1', instead: 'a reason' },
        { key: 'cron', value: '"a\nb"', instead: 'forged\n[odd] shutdown complete' },
        { key: 'error_file', value: '"e.log"', instead: 'no log files' },
      ]),
    );
    expect(text).toContain('\nlog files         none: the output goes to the primary\'s stdout and stderr (clusterkit logs odd); --output, --error, --log (outFile, errorFile, logFile) write it to files; PM2\'s error_file ("e.log") is not used: no log files\n');
    expect(text).toContain('\nnot used          PM2\'s __proto__ (1) is not used: a reason; PM2\'s cron ("a\\nb") is not used: forged\\n[odd] shutdown complete\n');
    expect(text).not.toMatch(/^\[odd\]/m);
    expect(text).toContain('(node:cluster workers sharing the listening ports; PM2: exec_mode)');
  });

  // Before: a value PM2's file set for a key clusterkit does not use was shown as written.
  it("[H252] hides the secrets in a not-used key's value, in the text and in --json", () => {
    const ignored = [
      { key: 'install_url', value: '"https://deploy:SECRET1@git.example/x?token=SECRET2&ref=main"', instead: 'a reason' },
      { key: 'post_update', value: '["curl -H \'Authorization: Bearer SECRET3\' https://h/hook"]', instead: 'a reason' },
    ];
    const text = formatDescription(described(ignored));
    expect(text).not.toContain('SECRET');
    expect(text).toContain('PM2\'s install_url ("https://deploy:<hidden>@git.example/x?token=<hidden>&ref=main") is not used: a reason; ');
    expect(text).toContain("PM2's post_update ([\"curl -H 'Authorization: <hidden>' https://h/hook\"]) is not used");
    const json = JSON.stringify(redactDescription(described(ignored)));
    expect(json).not.toContain('SECRET');
    expect(json).toContain('ref=main');
  });

  // Before: an argument with a newline was printed raw: the row ended there and its rest read as a line of its own.
  it('[H252] escapes control characters in every row: a script argument or execArgv value cannot start a forged row', () => {
    const description = described([]);
    (description.settings as unknown as Record<string, unknown>).scriptArgs = ['--a', 'x\nheartbeat         off', '\x1b[2J'];
    (description.settings as unknown as Record<string, unknown>).execArgv = ['--title=a\rb'];
    const text = formatDescription(description);
    // Each argument a shell word, ANSI-C quoted when it has a control character (H279).
    expect(text).toContain("\nscript args       --a $'x\\nheartbeat         off' $'\\e[2J'\n");
    expect(text).toContain("execArgv $'--title=a\\rb'\n");
    expect(text).not.toMatch(/^heartbeat {9}off$/m);
    expect(text).not.toContain('\x1b');
  });

  // Before: `--password=<hidden> --token <hidden>`: pasted, `<hidden` read a file and `>` wrote one (tester t30 F3).
  it('[H285] quotes the placeholder inside its shell word: the row pasted into a real shell gives back its words and redirects nothing', () => {
    const description = described([]);
    const given = ['--password=P1', '--token', 'T2', '-H', 'Authorization: Bearer B3', 'DB_PASSWORD=P4', '-pP5', '--passwd:P6', "it's", 'config.json'];
    (description.settings as unknown as Record<string, unknown>).scriptArgs = redactDescription({ ...description, settings: { ...description.settings, scriptArgs: given } } as ClusterDescription).settings.scriptArgs;
    const row = /\nscript args {7}(.*) \(secret-looking values are not shown\)\n/.exec(formatDescription(description))![1]!;
    expect(row).toBe(`--password='<hidden>' --token '<hidden>' -H 'Authorization: <hidden>' DB_PASSWORD='<hidden>' -p'<hidden>' --passwd:'<hidden>' 'it'\\''s' config.json`);
    const dir = mkdtempSync(join(tmpdir(), 'ck-paste-'));
    try {
      // A file named as the placeholder's inside, and one the old row's `>` would have truncated.
      writeFileSync(join(dir, 'hidden'), 'x');
      writeFileSync(join(dir, 'config.json'), 'kept');
      const words = execFileSync('bash', ['-c', `printf '[%s]\\n' ${row}`], { cwd: dir, encoding: 'utf8' });
      expect(words).toBe(
        ['--password=<hidden>', '--token', '<hidden>', '-H', 'Authorization: <hidden>', 'DB_PASSWORD=<hidden>', '-p<hidden>', '--passwd:<hidden>', "it's", 'config.json'].map((word) => `[${word}]\n`).join(''),
      );
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'hidden']);
      expect(execFileSync('cat', ['config.json', 'hidden'], { cwd: dir, encoding: 'utf8' })).toBe('keptx');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Retest t37 N2: `minReadyMs: 1999` showed `min ready 1s`, 1500 `1s`, `shutdownTimeoutMs: 2500`
// `shutdown timeout 2s`: every duration was floored to the second (the heartbeat row alone was
// exact). And a primary of the user's own code had `(--heartbeat-timeout)`, a flag it has not.
describe('[H372] show: durations as set', () => {
  function withSettings(settings: Record<string, unknown>, optionNames?: 'api'): string {
    const description = described([]);
    Object.assign(description.settings as unknown as Record<string, unknown>, settings);
    return formatDescription(optionNames === undefined ? description : ({ ...description, optionNames } as ClusterDescription));
  }
  const row = (text: string, key: string) => new RegExp(`\\n${key} +(.*)\\n`).exec(text)?.[1];

  it('[H623] says what /readyz needs of a health endpoint with a role: that many ready workers with it', () => {
    // Newcomer t63: "ready with 2 ready workers or more" while `status` showed 2 ready (a "cache" and a "web") and /readyz needed 2 "web".
    expect(row(withSettings({ health: { host: '0.0.0.0', port: 9090, minReady: 2, role: 'web' } }), 'health')).toBe('http://0.0.0.0:9090 (/healthz, /readyz: ready with 2 ready "web" workers or more, /metrics)');
    expect(row(withSettings({ health: { host: '0.0.0.0', port: 9090, minReady: 1 } }), 'health')).toBe('http://0.0.0.0:9090 (/healthz, /readyz: ready with 1 ready worker or more, /metrics)');
  });

  it('[H372][H614] shows every duration row exactly: no value loses the part under a second, nor under a minute', () => {
    const text = withSettings({
      shutdownTimeoutMs: 2_500,
      readyTimeoutMs: 1_999,
      gradualDrainMs: 750,
      minReadyMs: 1_999,
      restart: { backoff: { initialMs: 150, factor: 2, maxMs: 90_500 }, windowMs: 61_001, startupWindowMs: 1_500, stableAfterMs: 30_250, maxRestarts: 4, maxStartupFailures: 3 },
      heartbeat: { intervalMs: 1_250, timeoutMs: 2_500 },
      watch: { paths: ['src'], delayMs: 1_100 },
    });
    // [H614] What a stopping worker's requests get, the worker's own deadline (ops t61: `8s` read as the requests' time).
    expect(row(text, 'shutdown timeout')).toBe("2.5s (PM2: kill_timeout; a stopping worker's requests get up to 1.875s)");
    expect(row(text, 'ready timeout')).toBe('1.999s (PM2: listen_timeout)');
    expect(row(text, 'gradual drain')).toBe('750ms');
    expect(row(text, 'min ready')).toBe('1.999s: a replacement takes over once it stayed up this long (Kubernetes: minReadySeconds)');
    expect(row(text, 'restarts')).toBe('backoff 150ms, ×2 each time, up to 1m 30.5s; reset once a worker was ready 30.25s (stableAfter)');
    expect(row(text, 'crash loop')).toBe('4 restarts in 1m 1.001s, or 3 startup failures in a row (PM2: max_restarts; startup window 1.5s, PM2: min_uptime)');
    expect(row(text, 'heartbeat')).toBe('every 1.25s, a worker silent 2.5s is killed (--heartbeat-timeout)');
    expect(row(text, 'watch')).toMatch(/; a reload 1\.1s after the last change$/);
    // Whole values as before: `1m 0s`, `2h 5m`, `none` for no limit.
    const whole = withSettings({ shutdownTimeoutMs: 7_000, readyTimeoutMs: null, gradualDrainMs: 0, minReadyMs: 1_500, restart: { backoff: { initialMs: 100, factor: 2, maxMs: 7_500_000 }, windowMs: 60_000, startupWindowMs: 1_000, stableAfterMs: 3_600_500, maxRestarts: 4, maxStartupFailures: 3 } });
    expect(row(whole, 'shutdown timeout')).toBe("7s (PM2: kill_timeout; a stopping worker's requests get up to 5.25s)");
    expect(row(whole, 'ready timeout')).toBe('none (PM2: listen_timeout)');
    expect(row(whole, 'gradual drain')).toBe('0ms');
    expect(row(whole, 'min ready')).toMatch(/^1\.5s: /);
    expect(row(whole, 'restarts')).toBe('backoff 100ms, ×2 each time, up to 2h 5m; reset once a worker was ready 1h 0m 0.5s (stableAfter)');
    expect(row(whole, 'crash loop')).toMatch(/^4 restarts in 1m 0s, /);
  });

  it('[H363][H372] the heartbeat row of a primary of the user\'s own code names its option heartbeat.timeoutMs, not clusterkit run\'s flag', () => {
    const text = withSettings({ heartbeat: { intervalMs: 1_000, timeoutMs: 2_500 } }, 'api');
    expect(row(text, 'heartbeat')).toBe('every 1s, a worker silent 2.5s is killed (heartbeat.timeoutMs)');
    expect(text).not.toContain('--heartbeat-timeout');
  });
});
