/**
 * A save written in place and, at once, replaced by a rename (a build step that writes the file,
 * then a formatter or `sed -i` that saves it atomically): chokidar, with `persistent: false`,
 * took the second event within its 5 ms throttle as a repeat, and so never moved its watch to
 * the new inode. From then on, no save of the script reloaded, while every report said the
 * watch was on (deploy tester t55 F1, H526). Real workers, real files.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const app = (version: string) => `require('node:http').createServer((q, r) => r.end('${version}')).listen(Number(process.env.PORT));\n`;

async function served(port: number): Promise<string> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`)).text();
  } catch {
    return '';
  }
}

describe('clusterkit run --watch and a file replaced right after a write [H526]', () => {
  it('[H526] each write-then-rename save of the script reloads, and so does a plain save after them', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app.cjs': app('v0') });
    const script = join(project, 'app.cjs');
    const run = startCli(['run', 'app.cjs', '-w', '1', '--name', 'replaced', '--watch', '--watch-delay', '50ms'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[replaced\] watching \./);
    await until(() => readyPids(run).length === 1, 30_000, 'a worker ready');

    for (let round = 1; round <= 5; round++) {
      // Written in place, then at once replaced by a rename: two events within a few ms.
      writeFileSync(script, app(`w${round}`));
      writeFileSync(`${script}.tmp`, app(`r${round}`));
      renameSync(`${script}.tmp`, script);
      await until(async () => (await served(port)) === `r${round}`, 30_000, `round ${round}'s code served`);
    }
    writeFileSync(script, app('plain'));
    await until(async () => (await served(port)) === 'plain', 30_000, 'the plain save served');
    expect((await cli(['stop', 'replaced'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
