/**
 * `clusterkit run` with a config file of several apps: the launcher starts each app's primary
 * with an IPC channel, and that primary runs the config file's code. Bytes written on that
 * channel below process.send() used to crash the launcher (an uncaught SyntaxError in Node's
 * channel callback), which took every other app down with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = readFileSync(join(kRepoRoot, 'test/fixtures/cli-env-server.mjs'), 'utf8');

describe('the launcher of a config file', () => {
  it('[H54] survives an app primary that writes garbage on its channel: the other app keeps serving, one Ctrl-C stops both', async () => {
    const runtime = runtimeDir();
    const [apiPort, jobsPort] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      // Imported by every Node process of the run (NODE_OPTIONS); only the "api" app's primary
      // (`run ... api`) writes on fd 3, its channel to the launcher. The config itself loads in a
      // child process of its own (H315), whose fd 3 is that child's channel.
      'garbage.mjs': `import { writeSync, fstatSync } from 'node:fs';
if (process.argv[2] === 'run' && process.argv.includes('api')) {
  try { if (fstatSync(3).isSocket()) writeSync(3, '{not json\\n'); } catch {}
}
`,
      'apps.mjs': `export default { apps: [
  { name: 'api', script: 'server.mjs', workers: 1, env: { PORT: '${apiPort}' } },
  { name: 'jobs', script: 'server.mjs', workers: 1, env: { PORT: '${jobsPort}' } },
] };
`,
    });
    const run = startCli(['run', '--config', 'apps.mjs'], { runtime, cwd: project, env: { NODE_OPTIONS: `--import=${pathToFileURL(join(project, 'garbage.mjs')).href}` } });
    await run.waitFor(/app api's primary wrote bytes that are not a message on its channel to the launcher; the launcher no longer reads it/);
    await run.waitFor(/service jobs started: 1 worker/);
    await run.waitFor(/service api started: 1 worker/);
    expect((await get(`http://127.0.0.1:${jobsPort}/`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${apiPort}/`)).status).toBe(200);
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/\[api\] shutdown complete graceful=1/);
    expect(run.output()).toMatch(/\[jobs\] shutdown complete graceful=1/);
  });
});
