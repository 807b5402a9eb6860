/**
 * PM2-style cleanup in a plain script under `clusterkit run`: a script that listens for SIGINT
 * or SIGTERM stops through its own listener (SIGINT first, as PM2 sends it) and exits by
 * itself; its exit decides graceful or failed. A listener that does not exit by the worker's
 * deadline, or exits with requests open, is reported. Real processes, the CLI binary.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

async function startCleanupScript(name: string, env: Record<string, string> = {}) {
  const runtime = runtimeDir();
  const port = await freePort();
  const run = startCli(['run', 'test/fixtures/cli-cleanup-script.mjs', '-w', '1', '--name', name, '--shutdown-timeout', '4s'], { runtime, env: { PORT: String(port), ...env } });
  await run.waitFor(new RegExp(`service ${name} started: 1 worker`));
  return { runtime, run, port };
}

describe('clusterkit run: a plain script with its own cleanup', () => {
  it('[F54] stop runs the script\'s SIGINT listener, which closes its server (the request in flight finishes) and exits 0: graceful', async () => {
    const { runtime, run, port } = await startCleanupScript('tidy');
    const inFlight = get(`http://127.0.0.1:${port}/?ms=500`, 20_000);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'tidy'], { runtime, ms: 30_000 });
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped tidy: 1 worker stopped gracefully\n' });
    await expect(inFlight).resolves.toMatchObject({ status: 200 });
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.stdout()).toMatch(/\[tidy:1\] cleanup SIGINT \d+\n[^]*\[tidy:1\] closed \d+\n/);
    expect(run.stderr()).toContain('[tidy] shutdown complete graceful=1 failed=0 killed=0\n');
  });

  it('[F54] reload runs a SIGTERM listener (the one the script has) in the old worker; no downtime', async () => {
    const { runtime, run } = await startCleanupScript('tidyreload', { CLEANUP_SIGNAL: 'SIGTERM' });
    const reload = await cli(['reload', 'tidyreload'], { runtime, ms: 30_000 });
    expect(reload).toMatchObject({ code: 0, stdout: 'reloaded tidyreload: 1 worker replaced, no request cut off\n' });
    expect(run.stdout()).toMatch(/\[tidyreload:1\] cleanup SIGTERM \d+\n/);
    await cli(['stop', 'tidyreload'], { runtime, ms: 30_000 });
    await expect(run.exited(30_000)).resolves.toBe(0);
  });

  it('[F54] a listener that closes the server without process.exit(): the process ends by itself, as under plain node; graceful', async () => {
    const { runtime, run } = await startCleanupScript('natural', { CLEANUP: 'close-only' });
    const stop = await cli(['stop', 'natural'], { runtime, ms: 30_000 });
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped natural: 1 worker stopped gracefully\n' });
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.stdout()).toMatch(/\[natural:1\] closed \d+\n/);
  });

  it('[F54] a listener that never exits the process: cut at the worker\'s deadline, failed, said so; run exits 1', async () => {
    const { runtime, run } = await startCleanupScript('stuck', { CLEANUP: 'hang' });
    const stop = await cli(['stop', 'stuck'], { runtime, ms: 30_000 });
    expect(stop.stdout).toMatch(/^stopped stuck: 0 workers stopped gracefully, 1 did not stop cleanly/);
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stdout()).toMatch(/\[stuck:1\] cleanup SIGINT \d+\n/);
    expect(run.stderr()).toMatch(/\[stuck\] WARN worker 1: the script's SIGINT listener ran but the process did not exit within \d+ ms, the worker's own deadline; it exits with code 1\. The listener must end the process once its cleanup is done \(server\.close\(\(\) => process\.exit\(0\)\)\), or be left out: clusterkit stops the worker gracefully without it /);
  });

  it('[H240] the stop line says the one cause the primary knows (the listener overran the deadline), not "see the cluster\'s log"', async () => {
    const { runtime, run } = await startCleanupScript('stuckline', { CLEANUP: 'hang' });
    const stop = await cli(['stop', 'stuckline'], { runtime, ms: 30_000 });
    expect(stop).toMatchObject({
      code: 3,
      // Its server still listened at the deadline (H591): the listener closed nothing.
      stdout: "stopped stuckline: 0 workers stopped gracefully, 1 did not stop cleanly (the script's SIGINT listener closed no server and did not end the process by the worker's own deadline, so it exited with code 1; end it with server.close(() => process.exit(0)))\n",
    });
    await expect(run.exited(30_000)).resolves.toBe(1);
  });

  it('[H238] a stop during the start, whose listener keeps the worker past its deadline: a stop that did not finish cleanly, not "could not start"', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-cleanup-script.mjs', '-w', '1', '--name', 'bootstuck', '--shutdown-timeout', '4s'], {
      runtime,
      env: { PORT: String(await freePort()), CLEANUP: 'hang', BOOT: 'hang' },
    });
    await run.waitFor(/\[bootstuck:1\] booting \d+/);
    const stop = await cli(['stop', 'bootstuck'], { runtime, ms: 30_000 });
    // Before: "the start was interrupted, 1 worker stopped before it was ready", exit 0.
    expect(stop).toMatchObject({
      code: 3,
      stdout: "stopped bootstuck: the start was interrupted, 1 worker did not stop cleanly (the script's SIGINT listener ran but did not end the process within the worker's own deadline, so it exited with code 1)\n",
    });
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stderr()).not.toContain('could not start');
    expect(run.stderr()).toMatch(
      /\[bootstuck\] WARN worker 1 did not stop cleanly: its stop came while it was still starting, and the script's SIGINT listener ran but the process did not exit within its deadline \(the line above\); it exited with code 1 /,
    );
    expect(run.stderr()).toContain('[bootstuck] WARN shutdown complete: the start was interrupted; 1 worker did not stop cleanly graceful=0 failed=1 killed=0 notStarted=0\n');
  });

  it('[F54] a listener that exits at once with a request in flight: the cut request is reported, the stop failed', async () => {
    const { runtime, run, port } = await startCleanupScript('hasty', { CLEANUP: 'exit-now' });
    const inFlight = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'hasty'], { runtime, ms: 30_000 });
    expect(stop.stdout).toMatch(/^stopped hasty: 0 workers stopped gracefully, 1 did not stop cleanly .*, 1 request cut off\n$/);
    await expect(inFlight).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stderr()).toContain("WARN worker 1 exited with 1 request still open: they were cut off (code in the worker exited before they finished: the script's own cleanup, a process.exit() during its stop, or an exit that skips Node's 'exit' event)");
  });

  it('[H108] a listener that exits 0 at once with a request in flight: its exit line says it did not stop cleanly, not that it stopped', async () => {
    const { runtime, run, port } = await startCleanupScript('hastier', { CLEANUP: 'exit-now' });
    const inFlight = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    await cli(['stop', 'hastier'], { runtime, ms: 30_000 });
    await expect(inFlight).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    // Before: `worker 1 stopped`, an info line, beside the report of a failed stop.
    expect(run.stderr()).toContain('WARN worker 1 did not stop cleanly: it exited with code 0, but with requests still open, cut off (the line above)');
    expect(run.stderr() + run.stdout()).not.toMatch(/worker 1 stopped/);
  });

  it("[H107] a listener that ends the process with process.reallyExit(0) (no 'exit' event) with a request in flight: the stop failed and the request is counted, not a graceful stop", async () => {
    const { runtime, run, port } = await startCleanupScript('abrupt', { CLEANUP: 'really-exit' });
    const inFlight = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'abrupt'], { runtime, ms: 30_000 });
    // Before: "1 worker stopped gracefully", nothing cut off, while the client was reset.
    expect(stop.stdout).toMatch(/^stopped abrupt: 0 workers stopped gracefully, 1 did not stop cleanly .*, 1 request cut off\n$/);
    await expect(inFlight).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stderr()).toContain('WARN worker 1 exited with 1 request still open: they were cut off');
    expect(run.stderr()).toContain("WARN worker 1 did not stop cleanly: it exited with code 0 before its stop finished, in a way that skips Node's 'exit' event");
  });

  it('[H65] the documented cleanup (server.close, then exit) finishes under a keep-alive client: its connection is released, the stop is graceful', async () => {
    const { runtime, run, port } = await startCleanupScript('keepalive');
    // A keep-alive client with a request in flight when the stop begins: server.close() waits
    // for its connection, which the client would keep for its next request.
    const agent = new http.Agent({ keepAlive: true });
    onCleanup(() => agent.destroy());
    const response = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      // Answered once the stop began (the script's listener ran): whatever the machine's load, the
      // connection is then idle, kept alive by the client, during the stop. In a shutdown it is
      // released once the cluster stopped accepting (closed after the idle grace).
      http.get(`http://127.0.0.1:${port}/?untilStop=1`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      }).on('error', reject);
    });
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'keepalive'], { runtime, ms: 30_000 });
    await expect(response).resolves.toMatchObject({ status: 200 });
    // Before: the connection stayed open, the listener's close never finished, and the worker
    // was cut at its deadline (failed).
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped keepalive: 1 worker stopped gracefully\n' });
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.stdout()).toMatch(/\[keepalive:1\] closed \d+\n/);
  });

  it('[H65][H399] a listener whose close finishes only when the deadline cuts its request: the worker exits 1, as its line says, not 0; the lines blame the open request, not the listener', async () => {
    const { runtime, run, port } = await startCleanupScript('late');
    const stuck = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'late'], { runtime, ms: 30_000 });
    // Before (H399): "(requests cut off, _destroy timed out or threw, ...)" and "The listener must end the process ... (server.close(() => process.exit(0)))",
    // which is the listener this script has: it was waiting for the request the deadline cut.
    expect(stop.stdout).toBe(
      'stopped late: 0 workers stopped gracefully, 1 did not stop cleanly (requests still open at its shutdown deadline were cut off, so it exited with code 1; raise the shutdown timeout if they take longer), 1 request cut off\n',
    );
    expect(run.stderr()).toMatch(/\[late\] WARN worker 1 cut off 1 request still open at its shutdown deadline \(\d+ ms after its stop began\); it exits with code 1\. Raise --shutdown-timeout \(/);
    expect(run.stderr()).toMatch(
      /\[late\] WARN worker 1: the script's SIGINT listener ran but the process did not exit within \d+ ms, the worker's own deadline, most likely because its cleanup was still waiting for the 1 request still open then, cut off \(the line above: server\.close\(\) waits for open requests to end\); it exits with code 1\. Raise --shutdown-timeout \(.*\) if requests take longer, or have the listener end long requests \(streams, long polls\) as it closes the server; a listener that ends the process once its servers have closed \(server\.close\(\(\) => process\.exit\(0\)\)\) is not at fault/,
    );
    expect(run.stderr()).not.toContain('The listener must end the process');
    await expect(stuck).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    // The cut-off freed the script's server.close() callback, which called process.exit(0).
    expect(run.stdout()).toMatch(/\[late:1\] closed \d+\n/);
    expect(run.stderr()).toMatch(/\[late\] WARN worker 1 did not stop cleanly: it exited with code 1 /);
    expect(run.stderr()).not.toMatch(/\[late\] worker 1 stopped /);
  });

  it('[H591] a listener that closes nothing, with a request open at the deadline: the lines and the stop blame the listener, not the open request', async () => {
    const { runtime, run, port } = await startCleanupScript('noop', { CLEANUP: 'hang' });
    const stuck = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'noop'], { runtime, ms: 30_000 });
    // Ops t60, before: "(requests still open at its shutdown deadline were cut off ...; raise the
    // shutdown timeout if they take longer)" and "the listener itself is not at fault".
    expect(stop.stdout).toBe(
      "stopped noop: 0 workers stopped gracefully, 1 did not stop cleanly (the script's SIGINT listener closed no server and did not end the process by the worker's own deadline, so it exited with code 1; " +
        'end it with server.close(() => process.exit(0))), 1 request cut off\n',
    );
    await expect(stuck).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stderr()).not.toContain('is not at fault');
    expect(run.stderr()).toMatch(/\[noop\] WARN worker 1: .* The listener must end the process once its cleanup is done \(server\.close\(\(\) => process\.exit\(0\)\)\), or be left out/);
  });

  it('[H591] a listener that closes its servers one after another, waiting for a request on the first, is said to wait for it, not to have closed nothing', async () => {
    const { runtime, run, port } = await startCleanupScript('chain', { CLEANUP: 'chain', PORT2: String(await freePort()) });
    const stuck = get(`http://127.0.0.1:${port}/?ms=60000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    const stop = await cli(['stop', 'chain'], { runtime, ms: 30_000 });
    // Retest t60, before: "closed no server", for `server.close(() => server2.close(() => process.exit(0)))`.
    expect(stop.stdout).toBe(
      'stopped chain: 0 workers stopped gracefully, 1 did not stop cleanly (requests still open at its shutdown deadline were cut off, so it exited with code 1; raise the shutdown timeout if they take longer), 1 request cut off\n',
    );
    await expect(stuck).resolves.toHaveProperty('code', 'ECONNRESET');
    await expect(run.exited(30_000)).resolves.toBe(1);
    expect(run.stderr()).not.toContain('closed no server');
  });

  it('[H65] under busy keep-alive clients, a reload of the script with the documented cleanup loses no request: its own server.close() releases idle connections after a grace, not at once (at most one reused-connection reset, which clients retry, on a starved machine)', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-cleanup-script.mjs', '-w', '2', '--name', 'busyka', '--shutdown-timeout', '8s'], { runtime, env: { PORT: String(port), CLEANUP_SIGNAL: 'SIGTERM' } });
    await run.waitFor(/service busyka started: 2 workers/);
    // Zero-think keep-alive clients: Node's server.close() destroyed their idle connections at
    // once, and a request already on its way on one met a reset (3 to 9 per reload, a retest).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    onCleanup(() => agent.destroy());
    const errors: string[] = [];
    // Resets of a request sent on a reused idle connection as the worker closed it: the race
    // every keep-alive client has with a server closing an idle connection, which HTTP clients
    // retry (RFC 9112, 9.3.1; Node's: `request.reusedSocket`). The 250 ms grace makes it rare,
    // but a client starved of CPU for longer (a loaded machine) can still meet it.
    const retried: string[] = [];
    let served = 0;
    let isRunning = true;
    const client = async () => {
      while (isRunning) {
        const outcome = await new Promise<string | number>((resolve) => {
          const request = http
            .get({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            })
            .on('error', (error: NodeJS.ErrnoException) => resolve(request.reusedSocket && error.code === 'ECONNRESET' ? 'retry' : (error.code ?? error.message)));
        });
        if (outcome === 200) served++;
        else if (outcome === 'retry') retried.push(String(outcome));
        else errors.push(String(outcome));
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await until(() => served >= 200, 30_000, 'the clients served');
    const reload = await cli(['reload', 'busyka'], { runtime, ms: 60_000 });
    const servedBefore = served;
    await until(() => served >= servedBefore + 200, 30_000, 'the clients served by the new workers');
    isRunning = false;
    await Promise.all(clients);
    expect(reload).toMatchObject({ code: 0, stdout: 'reloaded busyka: 2 workers replaced, no request cut off\n' });
    expect(errors).toEqual([]);
    // Before the grace: 3 to 9 such resets per reload. At most one now, on a starved machine.
    expect(retried.length).toBeLessThanOrEqual(1);
    expect((await cli(['stop', 'busyka'], { runtime, ms: 30_000 })).code).toBe(0);
    await expect(run.exited(30_000)).resolves.toBe(0);
  });
});
