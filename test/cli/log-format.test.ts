/**
 * `clusterkit run --log-format json` read by pino's own tooling: every line, the primary's and
 * the workers', has a pino level (stdout info, stderr error), and pino-pretty shows each at the
 * level it was written at.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kPinoPretty = join(kRepoRoot, 'node_modules/pino-pretty/bin.js');
const kLabels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

describe('clusterkit run --log-format json', () => {
  it('[H723] writes pino levels on every line, which pino-pretty reads right; a crash is one WARN line', async () => {
    const run = startCli(['run', 'test/fixtures/cli-log-writer.mjs', '-w', '1', '--name', 'pretty', '--log-format', 'json'], {
      runtime: runtimeDir(),
      env: { PORT: String(await freePort()) },
    });
    const [, workerPid] = (await run.waitFor(/"workerId":1,"workerPid":(\d+),"slot":0,"msg":"worker 1 ready"/)) as unknown as [string, string];
    await run.waitFor(/"msg":"listening"/);
    // A crash, for warnings; the replacement's start, then a graceful stop.
    process.kill(Number(workerPid), 'SIGKILL');
    await run.waitFor(/"msg":"worker 2 ready"/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);

    // Each stream whole: interleaved chunks could split a line.
    const input = `${run.stdout()}${run.stderr()}`;
    const lines = input.trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    for (const [index, line] of lines.entries()) {
      expect({ line, level: kLabels[entries[index]!.level] !== undefined, pids: (line.match(/"pid":/g) ?? []).length <= 1 }).toEqual({ line, level: true, pids: true });
    }
    const levelOf = (msg: string) => entries.find((entry) => entry.msg === msg || (msg.endsWith('...') && entry.msg.startsWith(msg.slice(0, -3))))?.level;
    // The crash's one line, its exit's too (newcomer t76 #4: a second WARN, "worker 1 exited unexpectedly", came before it).
    expect([levelOf('warming up on stderr'), levelOf('listening'), levelOf('worker 1 was killed...'), levelOf('shutdown complete')]).toEqual([50, 30, 40, 30]);
    expect(entries.filter((entry) => entry.msg.startsWith('worker 1 '))).toHaveLength(2);

    const pretty = execFileSync(process.execPath, [kPinoPretty, '--colorize', 'false'], { input, encoding: 'utf8' });
    const headers = [...pretty.matchAll(/^\[[\d:.]+\] (\w+) \(pretty(?:\/\d+)?\): (.*)$/gm)].map((match) => [match[1], match[2]]);
    // One header per line, at its level (pino-pretty shows control characters its own way).
    expect(headers.map(([label]) => label)).toEqual(entries.map((entry) => kLabels[entry.level]));
    expect(headers).toEqual(expect.arrayContaining([['ERROR', 'warming up on stderr'], ['INFO', 'shutdown complete']]));
    expect(headers.find(([, msg]) => msg!.startsWith('worker 1 was killed'))?.[0]).toBe('WARN');
  });
});
