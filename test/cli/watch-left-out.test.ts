/**
 * [H515] `clusterkit show` of a file left out of the watch for the rest of the run (H511), with
 * real workers: the app writes it at each start and at any time between, so it is dropped,
 * watched again by a write while no reload ran, and found looping again. Before, `show` listed it
 * among the dropped paths, saying "a change at another time watches it again", which no change
 * does, and `show --json` had no way to tell the two apart.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

/** An app that appends to out.txt at start and every 400 ms after, as an app's log does. */
const app = (version: string) =>
  `const fs = require('node:fs');\n` +
  `const out = __dirname + '/out.txt';\n` +
  `fs.appendFileSync(out, 'start ' + process.pid + '\\n');\n` +
  `setInterval(() => fs.appendFileSync(out, 'tick ' + process.pid + '\\n'), 400).unref();\n` +
  `require('node:http').createServer((q, r) => r.end('${version}')).listen(Number(process.env.PORT));\n`;

describe('clusterkit show: a file left out of the watch for the rest of the run [H515]', () => {
  it('[H515] is listed apart from the dropped ones, in the text and in --json, with no "watches it again"', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'src/app.cjs': app('v1') });
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'leftout', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[leftout\] watching src /);
    writeFileSync(join(project, 'src/app.cjs'), app('v2'));
    // Dropped, watched again by a tick while no reload ran, then found looping again.
    // 120 s each: a generous bound for about 7 reloads (each waits out the 1 s startup window, H371).
    await run.waitFor(/WARN src\/out\.txt was written while each of the last 3 reloads ran, [^\n]*From now on, its changes during a reload are ignored/, 120_000);
    await run.waitFor(/src\/out\.txt changed while no reload ran \(a person or a tool\): watching it fully again/, 120_000);
    await run.waitFor(/WARN src\/out\.txt was again written while each of the last 3 reloads ran[^\n]*Left out of the watch for the rest of this run/, 120_000);

    const show = await cli(['show', 'leftout'], { runtime });
    expect(show.code).toBe(0);
    const row = show.stdout.split('\n').find((line) => line.startsWith('watch '));
    expect(row).toMatch(
      /^watch\s+on: \S*\/src; left out of the watch for the rest of this run: \S*\/src\/out\.txt \(found looping again after it was watched again; clusterkit run starts watching it again when it restarts\); a reload/,
    );
    expect(row).not.toMatch(/changes during reloads ignored|watches it again/);

    const json = JSON.parse((await cli(['show', 'leftout', '--json'], { runtime })).stdout) as { settings: { watch: { dropped: string[]; leftOut: string[] } } };
    expect(json.settings.watch.leftOut).toEqual([join(project, 'src/out.txt')]);
    expect(json.settings.watch.dropped).toEqual([]);

    expect((await cli(['stop', 'leftout'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  }, 400_000);
});
