/**
 * Signals that reach `clusterkit run` while it starts (H195): before its primary exists (the CLI
 * still loading, the config file being read) and while its workers start. Node's default action
 * ended the process at once without a line (SIGHUP: exit 129), and a SIGHUP to a starting
 * primary was dropped without a word. The CLI binary run directly, as users run it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

// /proc tells when the process has a handler for a signal: the earliest moment one can be handled.
const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

/** Listens at once; with GATE set, once that file exists (ready when it listens: the start waits for it). */
const kServer = `import http from 'node:http';
import { existsSync as isGateOpen } from 'node:fs';
const listen = () => http.createServer((request, response) => response.end(String(process.pid))).listen(Number(process.env.PORT), '127.0.0.1');
if (process.env.GATE === undefined) listen();
else {
  const timer = setInterval(() => {
    if (!isGateOpen(process.env.GATE)) return;
    clearInterval(timer);
    listen();
  }, 20);
}
`;

/** Whether `pid` has a handler for `signal` (SigCgt in /proc/<pid>/status: bit n-1 for signal n). */
function catches(pid: number, signal: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
  } catch {
    return false;
  }
}

/** What the control directory holds but the record of a clean stop (`<name>.stopped`, H453: a stop during the start writes one too). */
function socketsLeft(runtime: string): string[] {
  return existsSync(join(runtime, 'clusterkit')) ? readdirSync(join(runtime, 'clusterkit')).filter((entry) => !entry.endsWith('.stopped')) : [];
}

describeOnLinux('clusterkit run: signals during the start', () => {
  it('[H195] a SIGHUP as soon as the CLI can handle one, before its primary exists: one line, and the service starts', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer });
    // The worker listens only once the SIGHUP was said, and is ready only once it listens
    // (--wait-listen): the start cannot end before the signal is read, however busy the machine
    // (under load it did, and the SIGHUP reloaded).
    const gate = join(project, 'gate');
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'hupearly', '--wait-listen'], { runtime, cwd: project, env: { PORT: String(port), GATE: gate } });
    const pid = run.child.pid!;
    // Before: no handler until the primary's start, seconds later on a busy machine; a SIGHUP
    // before it killed the process (129) without a line, one after it was dropped without a word.
    await until(() => catches(pid, 1), 30_000, 'the CLI handles SIGHUP');
    process.kill(pid, 'SIGHUP');
    // Said by the CLI (`clusterkit: SIGHUP ignored: ...`), or by its primary when the CLI's event
    // loop, busy loading, read the signal only once the primary listened.
    await run.waitFor(/^(clusterkit:|\[hupearly\] WARN) SIGHUP ignored: the service is still starting, and a rolling reload needs started workers to replace/m);
    writeFileSync(gate, '');
    await run.waitFor(/service hupearly started: 1 worker/);
    expect((await get(`http://127.0.0.1:${port}/`)).body).toBe(String(readyPids(run)[0]));
    process.kill(pid, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H195] SIGHUP and SIGUSR2 while the config file loads: each logged and ignored, and the service starts', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.mjs': kServer,
      // The config loads in a child of the CLI (H315): it signals its parent, the CLI, at a known point of the start.
      'hup.config.cjs': `process.kill(process.ppid, 'SIGHUP');
process.kill(process.ppid, 'SIGUSR2');
module.exports = { apps: [{ name: 'hupcfg', script: 'server.mjs', workers: 1, env: { PORT: '${port}' } }] };
`,
    });
    const run = startCli(['run', '-c', 'hup.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service hupcfg started: 1 worker/);
    // By the CLI, or by its primary when the CLI's loop read the signal only once the primary listened.
    expect(run.stderr()).toMatch(/^(clusterkit:|\[hupcfg\] WARN) SIGHUP ignored: the service is still starting/m);
    expect(run.stderr()).toMatch(/^(clusterkit:|\[hupcfg\] WARN) SIGUSR2 ignored: clusterkit reloads the workers on SIGHUP/m);
    expect(run.stderr().match(/ignored/g)).toHaveLength(2);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('[H195] %s while the config file loads: the start stops with one line and exit 1, nothing left', async (signal) => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      // Its parent, the CLI: the config loads in a child of its own (H315).
      'stop.config.cjs': `process.kill(process.ppid, '${signal}');
module.exports = { apps: [{ name: 'stopcfg', script: 'server.mjs', workers: 2, env: { PORT: '0' } }] };
`,
    });
    const run = startCli(['run', '-c', 'stop.config.cjs'], { runtime, cwd: project });
    // Before: killed by the signal at once (exit 143 or 130), without a line.
    await expect(run.exited()).resolves.toBe(1);
    // Read by the CLI before its primary existed (its one line), or, on a busy machine, by the
    // primary as it started its workers (the interrupted start's report): exit 1 either way.
    const early = `clusterkit: ${signal} during the start, before any worker was started: the start was stopped, and nothing was left running (exit code 1: the service did not start).\n`;
    if (run.stderr() !== early) expect(run.stderr()).toMatch(new RegExp(`shutting down signal=${signal}[^]*shutdown complete: the start was interrupted`));
    expect(socketsLeft(runtime)).toEqual([]);
    await waitUntilGone([...run.output().matchAll(/workerPid=(\d+)/g)].map((match) => Number(match[1])));
  });

  it('[H195] a SIGHUP while the workers start: logged and ignored by the primary, which starts and serves', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      // The worker signals its primary from its script, then listens only once the primary has
      // said what it did with the signal: during the start, however late a busy machine runs the
      // primary's signal handler (under load its ready came first, and the SIGHUP then reloaded).
      'server.mjs': `import { existsSync } from 'node:fs';\nprocess.kill(process.ppid, 'SIGHUP');\nawait new Promise((resolve) => { const poll = setInterval(() => existsSync('heard') && (clearInterval(poll), resolve()), 20); });\n${kServer}`,
    });
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'hupstart'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/WARN SIGHUP ignored/);
    writeFileSync(join(project, 'heard'), '');
    await run.waitFor(/service hupstart started: 1 worker/);
    // Before: the reload was refused (not started yet) without a word.
    expect(run.stderr()).toMatch(/\[hupstart\] WARN SIGHUP ignored: the service is still starting, and a rolling reload needs started workers to replace; each worker loads the code as it is when it starts\. Send SIGHUP again once the service has started if the code changed since\. signal=SIGHUP count=1\n/);
    const pids = readyPids(run);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    await waitUntilGone(pids);
  });

  it('[H204] several apps: SIGHUP and SIGUSR2 to the launcher before the apps have started are each logged, the apps start, and a later SIGHUP reloads them', async () => {
    const runtime = runtimeDir();
    const [one, two] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      'clusterkit.config.cjs': `module.exports = { apps: [
  { name: 'hupa', script: 'server.mjs', workers: 1, env: { PORT: '${one}' } },
  { name: 'hupb', script: 'server.mjs', workers: 1, env: { PORT: '${two}' } },
] };
`,
    });
    const run = startCli(['run'], { runtime, cwd: project });
    // The launcher listens for both once it has said this, and its apps' processes have just been spawned.
    await run.waitFor(/starting 2 apps, each in its own primary process: hupa, hupb/);
    process.kill(run.child.pid!, 'SIGUSR2');
    process.kill(run.child.pid!, 'SIGHUP');
    await run.waitFor(/service hupa started: 1 worker/);
    await run.waitFor(/service hupb started: 1 worker/);
    // Before: the SIGHUP was passed on to apps whose processes did not handle it yet: both were
    // killed by it ("app hupa was killed by SIGHUP"), with no line saying why.
    expect(run.stderr()).toMatch(/^\[clusterkit\] WARN SIGHUP ignored for apps hupa, hupb: they are still starting, and a rolling reload needs started workers to replace/m);
    expect(run.stderr()).toMatch(/^\[clusterkit\] WARN SIGUSR2 ignored: clusterkit reloads the workers on SIGHUP/m);
    expect(run.output()).not.toContain('killed by SIGHUP');
    // Said after each app has told the launcher it started (launcher-link.ts's attach).
    await run.waitFor(/\[hupa\] control it from another terminal/);
    await run.waitFor(/\[hupb\] control it from another terminal/);
    process.kill(run.child.pid!, 'SIGHUP');
    await run.waitFor(/\[hupa\] rolling reload complete/);
    await run.waitFor(/\[hupb\] rolling reload complete/);
    const pids = readyPids(run);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    await waitUntilGone(pids);
  });
});
