/**
 * A `clusterkit run` worker that gets a SIGTERM the primary did not send by a stop (a `kill`,
 * a process manager, its own code) stops on its own and exits with code 0. While it imports its
 * script (a top-level await), it was announced ready, "service started", then an unexplained
 * code-0 exit, and three in a row retired the slot with "Fix that" (hostile t29 M1, H273). A
 * ready one's exit said only `code=0` (L2, H275).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kSenders = "from outside clusterkit \\(kill, a process manager, a container runtime, or the worker's own code\\)";

describe('clusterkit run: a stop signal from outside clusterkit', () => {
  it('[H273] a SIGTERM from outside during the import: not announced ready, told as stopped by SIGTERM before it was ready', async () => {
    const run = startCli(['run', 'test/fixtures/cli-import-forever.mjs', '-w', '1', '--name', 'termimp', '--ready-timeout', '600s'], {
      runtime: runtimeDir(),
      env: { PORT: String(await freePort()) },
    });
    const [, pid] = await run.waitFor(/importing 0 (\d+)/);
    process.kill(Number(pid), 'SIGTERM');
    const [line] = await run.waitFor(/[^\n]*worker 1 could not start[^\n]*/);
    // Before: "worker 1 ready", "service termimp started", then "WARN worker 1 exited unexpectedly ... code=0".
    expect(line).toMatch(new RegExp(`ERROR worker 1 could not start: it was stopped by SIGTERM ${kSenders} before it was ready `));
    expect(line).not.toContain('kill -9');
    expect(run.output()).not.toMatch(/worker 1 ready|service termimp started|exited unexpectedly/);
    // It counts as a failed start: the slot is restarted, its import begun again.
    await run.waitFor(/importing 0 \d+[\s\S]*importing 0 \d+/);
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });

  it('[H273][H275] a script that SIGTERMs itself during its import, 3 times: the crash-loop line names the signal and whom to look for, not "Fix that"', async () => {
    const run = startCli(['run', 'test/fixtures/cli-term-while-importing.mjs', '-w', '1', '--name', 'selfterm', '--ready-timeout', '600s'], {
      runtime: runtimeDir(),
      env: { PORT: String(await freePort()) },
    });
    // The breaker gives the slot up, the service has no worker left, and run exits 1.
    await expect(run.exited(60_000)).resolves.toBe(1);
    const output = run.output();
    expect(output).not.toMatch(/worker \d ready|service selfterm started/);
    expect(output.match(new RegExp(`could not start: it was stopped by SIGTERM ${kSenders} before it was ready`, 'g'))).toHaveLength(3);
    // Before: "Last failure: worker 3 exited with code 0 11 ms after it became ready. Fix that, then start it again."
    const [loop] = output.match(/[^\n]*could not start 3 times in a row[^\n]*/) ?? [''];
    expect(loop).toMatch(new RegExp(`Last failure: Worker 3 \\(pid \\d+\\) was stopped by SIGTERM ${kSenders} before it was ready\\. Its output need not show an error: look for what sent the signal \\(.*\\), then start it again\\.`));
    expect(loop).not.toContain('Fix that');
    // Before: "... exited with code 0 11 ms after it became ready; its output above says why".
    const [failed] = output.match(/[^\n]*The service "selfterm" could not start[^\n]*/) ?? [''];
    expect(failed).toContain('was stopped by SIGTERM from outside clusterkit');
    expect(failed).toContain('its output need not show an error: look for what sent the signal');
    expect(failed).not.toContain('its output above says why');
  });

  it('[H275] a SIGTERM to a ready worker: its exit line says it was stopped by SIGTERM, not only code=0', async () => {
    const server = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n";
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'termready'], { runtime: runtimeDir(), cwd: tempProject({ 'server.cjs': server }), env: { PORT: String(await freePort()) } });
    await run.waitFor(/service termready started: 1 worker /);
    const [pid] = readyPids(run);
    process.kill(pid!, 'SIGTERM');
    // Before: "WARN worker 1 exited unexpectedly workerId=1 ... code=0 signal=null".
    const [line] = await run.waitFor(/[^\n]*worker 1 exited unexpectedly[^\n]*/);
    expect(line).toMatch(new RegExp(`WARN worker 1 exited unexpectedly: it was stopped by SIGTERM ${kSenders} and exited with code 0 .*stopSignal=SIGTERM`));
    await run.waitFor(/worker 2 ready/);
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });
});
