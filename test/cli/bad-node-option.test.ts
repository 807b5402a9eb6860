/**
 * H253: `clusterkit run` with a Node option the workers' Node refuses (`--no-such-flag`, from
 * `--node-arg`, a clusterkit config's `nodeArgs` or a PM2 file's `node_args`) fails after one
 * attempt per worker slot, its lines naming the option and where to fix it; before, each slot's
 * worker was forked 3 times and the failure read as a script that ended while loading.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');\n";

/** What a run that Node refused its workers' options says: checked the same whatever set the option. */
function expectRefusedOnce(result: { code: number | string; stdout: string; stderr: string }): void {
  const output = `${result.stdout}${result.stderr}`;
  expect(result.code).toBe(1);
  expect(output).toContain('bad option: --no-such-flag');
  // One fork per slot (2 workers), none restarted: before, workers 3, 4, 5...
  expect(output).not.toMatch(/\bworker 3\b/);
  expect(output).not.toContain('ended while still loading');
  // Either worker may be refused first: both fork at once, and a busy machine orders their exits (under-load run 3).
  expect(output).toMatch(/ERROR worker [12] could not start: it exited with code 9 before it ran any JavaScript: Node refused its options \(execArgv (\S+ )*--no-such-flag; likely --no-such-flag, not an option this Node lists\)/);
  expect(output).toContain("Fix or remove that option where the workers' Node options are set (clusterkit run: --node-arg; a config file: nodeArgs, or PM2's node_args; the library: the execArgv option), then start again.");
  expect(output).toMatch(/ERROR The service "\S+" could not start: worker \d+ \(pid \d+\) exited with code 9 before it ran any JavaScript: .*\(1 attempt of worker slot \d\)\./);
}

describe('clusterkit run with a Node option Node refuses', () => {
  it('[H253] --node-arg=--no-such-flag: one attempt per slot, the option named', async () => {
    const project = tempProject({ 'server.cjs': kServer });
    expectRefusedOnce(await cli(['run', 'server.cjs', '-w', '2', '--name', 'badopt', '--node-arg=--no-such-flag'], { runtime: runtimeDir(), cwd: project }));
  });

  it("[H253] a clusterkit config's nodeArgs and a PM2 file's node_args: the same", async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.json': '{ "apps": [{ "name": "own", "script": "server.cjs", "workers": 2, "nodeArgs": ["--no-such-flag"] }] }',
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'pm2', script: 'server.cjs', instances: 2, node_args: '--no-such-flag' }] };\n",
    });
    const [own, pm2] = await Promise.all([
      cli(['run', 'clusterkit.config.json'], { runtime: runtimeDir(), cwd: project }),
      cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project }),
    ]);
    expectRefusedOnce(own);
    expectRefusedOnce(pm2);
  });
});
