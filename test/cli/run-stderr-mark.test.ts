/**
 * [H242] `clusterkit run` marks a worker's stderr lines `[api:1 err]`, as `clusterkit logs` does
 * (H225): under systemd or docker (`run ... 2>&1`) the mark is what users grep for, and
 * docs/logs-and-watch.md says `logs` prints what the `run` terminal shows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, kCliPath, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

// Two lines in one chunk, a line cut across two writes, a line over the 16 KiB cap, a stack.
const kWriter = `process.stderr.write('first err\\nsecond err\\n');
process.stderr.write('half ', () => process.stderr.write('done\\n', () => {
  process.stderr.write('x'.repeat(20000) + '\\n');
  console.error(new Error('multi-line stack'));
  console.log('to stdout');
  process.stderr.write('last err\\n');
}));
setInterval(() => {}, 1 << 30);
`;

function workerLines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`[${name}:`));
}

function expectMarked(stderr: string, name: string): void {
  expect(stderr).toContain(`[${name}:1 err] first err\n[${name}:1 err] second err\n`);
  expect(stderr).toContain(`[${name}:1 err] half done\n`);
  expect(stderr).toContain(`[${name}:1 err] ${'x'.repeat(16384)} [...]\n[${name}:1 err] ${'x'.repeat(20000 - 16384)}\n`);
  expect(stderr).toMatch(new RegExp(`^\\[${name}:1 err\\] Error: multi-line stack\\n(\\[${name}:1 err\\]     at .*\\n)+`, 'm'));
  expect(stderr).toContain(`[${name}:1 err] last err\n`);
  // Every worker line on stderr is marked, none on stdout.
  expect(workerLines(stderr, name).filter((line) => !line.startsWith(`[${name}:1 err] `))).toEqual([]);
}

describe('[H242] clusterkit run: a worker\'s stderr lines', () => {
  // Before: `[mark:1] first err`, unmarked, while `clusterkit logs` printed `[mark:1 err] first err`.
  it('[H242] are marked [name:id err] on every line (a chunk of several, a line cut across writes, a piece over 16 KiB, a stack), as clusterkit logs prints them', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'writer.mjs': kWriter });
    const run = startCli(['run', 'writer.mjs', '-w', '1', '--name', 'mark'], { runtime, cwd: project });
    await run.waitFor(/ last err\n/);
    await run.waitFor(/ to stdout\n/);
    expectMarked(run.stderr(), 'mark');
    expect(run.stdout()).toBe('[mark:1] to stdout\n');

    const logs = await cli(['logs', 'mark', '--lines', '100'], { runtime });
    expect(logs.code).toBe(0);
    expect(workerLines(logs.stderr, 'mark')).toEqual(workerLines(run.stderr(), 'mark'));
    expect(logs.stdout).toContain('[mark:1] to stdout\n');
  });

  it('[H242] are marked in each app\'s prefix when a config runs several apps', async () => {
    const runtime = runtimeDir();
    // Lines under 4 KiB: each app's write to the shared stderr is whole (a pipe's atomic write).
    const project = tempProject({
      'writer.mjs': "process.stderr.write('first err\\nsecond err\\n');\nconsole.error(new Error('multi-line stack'));\nconsole.log('to stdout');\nprocess.stderr.write('last err\\n');\nsetInterval(() => {}, 1 << 30);\n",
      'two.config.json': JSON.stringify({ apps: [{ name: 'ma', script: 'writer.mjs', workers: 1 }, { name: 'mb', script: 'writer.mjs', workers: 1 }] }),
    });
    const run = startCli(['run', '-c', 'two.config.json'], { runtime, cwd: project });
    for (const name of ['ma', 'mb']) {
      await run.waitFor(new RegExp(`^\\[${name}:1( err)?\\] last err\n`, 'm'));
      await run.waitFor(new RegExp(`^\\[${name}:1\\] to stdout\n`, 'm'));
    }
    for (const name of ['ma', 'mb']) {
      const own = workerLines(run.stderr(), name);
      expect(own.slice(0, 3)).toEqual([`[${name}:1 err] first err`, `[${name}:1 err] second err`, `[${name}:1 err] Error: multi-line stack`]);
      expect(own.length).toBeGreaterThan(4);
      expect(own.filter((line) => !line.startsWith(`[${name}:1 err] `))).toEqual([]);
      expect(workerLines(run.stdout(), name)).toEqual([`[${name}:1] to stdout`]);
    }
  });

  // util-linux `script` gives the CLI a terminal; without it (not Linux), there is nothing to run.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  (hasScript ? it : it.skip)('[H242] have a red mark on a color terminal, and a plain one with NO_COLOR', async () => {
    const project = tempProject({ 'tty.mjs': "console.error('on stderr');\nconsole.log('on stdout');\nsetInterval(() => {}, 1 << 30);\n" });
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(kCliPath)} run tty.mjs -w 1`;
    for (const noColor of ['', '1']) {
      const child = spawn('script', ['-qc', command, '/dev/null'], { cwd: project, detached: true, env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir(), NODE_ENV: 'production', NO_COLOR: noColor, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'ignore'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // `script` runs the CLI in a session of its own: its primary (and workers) are killed by its pid.
      const primaryPid = () => Number(/primary=(\d+)/.exec(output)?.[1] ?? 0);
      try {
        await until(() => primaryPid() > 0 && output.includes('on stderr') && output.includes('on stdout'), 30_000, 'the worker lines');
        expect(output).toContain(noColor === '' ? '\x1b[31m[tty:1 err]\x1b[39m on stderr' : '[tty:1 err] on stderr');
        expect(output).toContain('[tty:1] on stdout');
      } finally {
        for (const group of [primaryPid(), child.pid!]) {
          try {
            if (group > 0) process.kill(-group, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    }
  });
});
