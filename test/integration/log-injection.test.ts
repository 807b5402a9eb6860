/**
 * [H14] Text a worker controls never forges a line of the primary's log nor drives the
 * terminal: the line and JSON loggers escape control characters in messages and fields (a
 * line stays one line, `\n` and `\x1b` are shown as such), and `clusterkit run` shows a
 * worker's start failure the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createJsonLogger, createLineLogger } from '../../src/index.js';
import { cleanUpCli, cli, kCliPath, runtimeDir, tempProject } from '../cli/cli-process.js';
import { until } from '../helpers/wait.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';

afterEach(() => cleanUpCli());

// Raw control characters but the newline ending each line, and the Unicode ones that reorder text.
// eslint-disable-next-line no-control-regex
const kRaw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const kForged = 'boom\n[t] shutdown complete graceful=1 failed=0 killed=0\r\x1b[2J\u202eevil\x9b';

function collect(): { stream: { write(line: string): boolean }; lines: string[] } {
  const lines: string[] = [];
  return { stream: { write: (line: string) => (lines.push(line), true) }, lines };
}

describe('[H14] log lines from untrusted text', () => {
  it('[H14] the line logger escapes control characters in the message, field values and keys; the JSON logger keeps the text, escaped', () => {
    const line = collect();
    createLineLogger({ name: 'api', stream: line.stream }).error({ err: 'x', reason: kForged, plain: 'a\x1b[31mb', 'k\ney': 1, tab: 'a\tb' }, kForged);
    expect(line.lines).toHaveLength(1);
    const [text] = line.lines;
    expect(text!.endsWith('\n')).toBe(true);
    expect(text!.slice(0, -1)).not.toMatch(/\n/);
    expect(text!.slice(0, -1).replace(/\t/g, '')).not.toMatch(kRaw);
    expect(text).toBe(
      '[api] ERROR boom\\n[t] shutdown complete graceful=1 failed=0 killed=0\\r\\x1b[2J\\u202eevil\\x9b err=x ' +
        'reason="boom\\n[t] shutdown complete graceful=1 failed=0 killed=0\\r\\u001b[2J\\u202eevil\\x9b" plain=a\\x1b[31mb k\\ney=1 tab="a\\tb"\n',
    );

    const json = collect();
    createJsonLogger({ name: 'api', stream: json.stream }).warn({ reason: kForged }, kForged);
    expect(json.lines).toHaveLength(1);
    expect(json.lines[0]!.slice(0, -1)).not.toMatch(kRaw);
    expect(json.lines[0]!.slice(0, -1)).not.toMatch(/\n/);
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 40, name: 'api', reason: kForged, msg: kForged });
  });

  it('[H14] a worker whose _init error forges "\\n[t] shutdown complete" leaves every line of the primary one line', async () => {
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary({ logger, restart: { backoff: { initialMs: 10 } } }, 'workers/init-throws-forged.ts');
    await expect(primary.start()).rejects.toMatchObject({ code: 'ERR_CRASH_LOOP' });
    const lines = text().split('\n').slice(0, -1);
    // Before: the error's newline started a line of its own, "[t] shutdown complete ...".
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\[t\] /);
    expect(lines.filter((line) => line.startsWith('[t] shutdown complete graceful=1'))).toEqual([]);
    expect(lines.filter((line) => line.includes('could not start: its _init() threw Error: boom'))).toHaveLength(3);
    expect(text()).toContain('boom\\n[t] shutdown complete graceful=1 failed=0 killed=0\\r\\x1b[2J\\u202eevil\\x9b');
    expect(text().replace(/\n/g, '')).not.toMatch(kRaw);
  });

  it('[H14] clusterkit run shows a script that throws such a message on one line, escaped', async () => {
    const project = tempProject({ 'forged.mjs': `throw new Error(${JSON.stringify(kForged)});\n` });
    const result = await cli(['run', 'forged.mjs', '-w', '1'], { runtime: runtimeDir(), cwd: project, ms: 30_000 });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').slice(0, -1);
    for (const line of lines) expect(line).toMatch(/^\[forged(:\d+)?\] /);
    expect(result.stderr).toContain('threw on import: Error: boom\\n[t] shutdown complete');
    expect(result.stderr.replace(/\n/g, '')).not.toMatch(kRaw);
  });

  // util-linux `script` gives the CLI a terminal; without it (not Linux), there is nothing to run.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  (hasScript ? it : it.skip)('[H14] clusterkit run shows worker lines on a terminal with their colors, every other control character escaped (no \\r over the prefix)', async () => {
    const project = tempProject({ 'tty.mjs': "console.log('\\x1b[31mred\\x1b[0m plain \\r[tty] forged \\x1b]0;title\\x07 end');\nsetInterval(() => {}, 1 << 30);\n" });
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(kCliPath)} run tty.mjs -w 1`;
    const child = spawn('script', ['-qc', command, '/dev/null'], { cwd: project, detached: true, env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir(), NODE_ENV: 'production', NO_COLOR: '' }, stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // `script` runs the CLI in a session of its own: its primary (and workers) are killed by its pid.
    const primaryPid = () => Number(/primary=(\d+)/.exec(output)?.[1] ?? 0);
    try {
      await until(() => primaryPid() > 0 && output.includes('[tty:1]') && output.includes('end'), 20_000, 'the worker line');
      expect(output).toContain('[tty:1] \x1b[31mred\x1b[0m plain \\x0d[tty] forged \\x1b]0;title\\x07 end');
    } finally {
      for (const group of [primaryPid(), child.pid!]) {
        try {
          if (group > 0) process.kill(-group, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  });
});
