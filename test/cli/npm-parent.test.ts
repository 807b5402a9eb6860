/**
 * `clusterkit run` started through npm (`npx clusterkit run`, `npm run <script>`) with stdin not a
 * terminal, as a supervisor or a container starts it, says at its start that a SIGTERM to npm does
 * not stop it (H307): npm passes the signal on to the shell it runs the command in, which ends of
 * it without passing it on, and the primary goes on, re-parented, stopped by no one. Started
 * directly, by npm with no shell in between (a script's `exec`), or in a terminal, it says nothing.
 * Real npm, real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { spawnNode, type Spawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n";
/** The start of the line, whatever the pids. */
const kWarning =
  /WARN started through npm and a shell \(pid (\d+): ([^;]+); pid (\d+): (\w+)\): npm passes a SIGTERM on to that shell, which ends without passing it on to clusterkit, so stopping npm( leaves (this cluster|these apps) running with no one to stop it \(in a container: until the container ends, killing every process in it without a graceful stop\); a SIGHUP to npm or to its process group \(kill -HUP -<pgid>\) ends npm and that shell too, leaving (this cluster|these apps) the same way|, this container's PID 1, ends the container, which kills (this cluster|these apps) without a graceful stop); under a supervisor or in a container, start node_modules\/\.bin\/clusterkit itself \(or exec it from a script\); see "start the bin, not npx" in docs\/cli\.md/;

/** A user's project with clusterkit installed, its bin linked as npm links it: node_modules/.bin/clusterkit. */
function npmProject(files: Record<string, string>, scripts: Record<string, string> = {}): string {
  const project = tempProject({ ...files, 'package.json': JSON.stringify({ name: 'npm-parent', version: '1.0.0', private: true, scripts }) });
  mkdirSync(join(project, 'node_modules', '.bin'));
  symlinkSync('../clusterkit/dist/cli/main.js', join(project, 'node_modules', '.bin', 'clusterkit'));
  return project;
}

/** Runs real npm with `args` in `project`, stdin not a terminal, leading its own process group (killed after the test). */
function startNpm(args: string[], project: string, runtime: string, env: Record<string, string> = {}, within: string[] = []): Spawned {
  const [executable, ...rest] = [...within, 'npm', ...args];
  return spawnNode(rest, {
    executable: executable!,
    cwd: project,
    detached: true,
    label: [...within, 'npm', ...args].join(' '),
    // Nothing of npm's own reaches the network: no update check, no install.
    env: { NODE_ENV: 'production', XDG_RUNTIME_DIR: runtime, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_offline: 'true', ...env },
  });
}

/** Waits for npm itself to end (its pipes stay open while a primary it left behind runs); its code, or the signal that ended it. */
async function npmEnded(run: Spawned): Promise<number | string> {
  await until(() => run.child.exitCode !== null || run.child.signalCode !== null, 30_000, 'npm ended');
  return run.child.exitCode ?? run.child.signalCode!;
}

/**
 * Whether this machine's sh keeps the command it runs as its child (dash, Debian's and Ubuntu's sh), as
 * npm runs it: a sh that execs a lone command instead (bash) makes clusterkit npm's own child, which
 * npm passes the SIGTERM on to, and there is nothing to say.
 */
const kShKeepsItsChild = (() => {
  const probe = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} -p process.ppid`]);
  return Number(probe.stdout?.toString()) === probe.pid;
})();
const itWithShell = kShKeepsItsChild ? it : it.skip;

/** A PID namespace of its own, as a container has (a user namespace too when not root), with its own /proc. */
const kUnshare = ['unshare', ...(process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--mount-proc'];
const kCanUnshare = kShKeepsItsChild && spawnSync(kUnshare[0]!, [...kUnshare.slice(1), 'true']).status === 0;

/** The children of `pid` (Linux /proc), for a process the test did not start itself. */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1')
      .split(' ')
      .filter((word) => word !== '')
      .map(Number),
  );
}

describe('clusterkit run started through npm', () => {
  itWithShell('[H307] npm exec (npx), stdin not a terminal: one WARN line at the start; and it is true: SIGTERM to npm leaves the primary serving', async () => {
    const runtime = runtimeDir();
    const project = npmProject({ 'server.cjs': kServer });
    const run = startNpm(['exec', '--no', '--', 'clusterkit', 'run', 'server.cjs', '-w', '1', '--name', 'npmexec'], project, runtime, { PORT: String(await freePort()) });
    const primary = Number((await run.waitFor(/control it from another terminal: .* primary=(\d+)/))[1]);
    const warnings = run.output().split('\n').filter((line) => kWarning.test(line));
    expect(warnings).toHaveLength(1);
    const [, npmPid, npmCommand, shellPid, shell] = kWarning.exec(warnings[0]!)!;
    expect(warnings[0]).toMatch(/^\[npmexec\] WARN .* leaves this cluster running .* npm=\d+ shell=\d+$/);
    expect(Number(npmPid)).toBe(run.child.pid);
    expect(npmCommand).toBe('npm exec');
    expect(shell).toBe('sh');
    // Said before the workers start.
    expect(run.output().indexOf('WARN started through npm')).toBeLessThan(run.output().indexOf('starting 1 worker'));
    // What a supervisor does: SIGTERM to the process it started. npm ends, the primary does not.
    process.kill(run.child.pid!, 'SIGTERM');
    expect([143, 'SIGTERM']).toContain(await npmEnded(run));
    await waitUntilGone([Number(shellPid)]);
    expect(isAlive(primary)).toBe(true);
    expect(run.output()).not.toContain('shutting down');
    const stop = await cli(['stop', 'npmexec'], { runtime });
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped npmexec: 1 worker stopped gracefully\n' });
    await waitUntilGone([primary]);
  });

  (kCanUnshare ? it : it.skip)('[H307] npm as the PID 1 of a container: the line says stopping npm ends the container and kills the cluster; and it does, without a drain', async () => {
    const runtime = runtimeDir();
    const project = npmProject({ 'server.cjs': kServer });
    const run = startNpm(['exec', '--no', '--', 'clusterkit', 'run', 'server.cjs', '-w', '1', '--name', 'npmpid1'], project, runtime, { PORT: String(await freePort()) }, kUnshare);
    await run.waitFor(/service npmpid1 started/);
    const warnings = run.output().split('\n').filter((line) => kWarning.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\[npmpid1\] WARN started through npm and a shell \(pid 1: npm exec; pid \d+: sh\): .* so stopping npm, this container's PID 1, ends the container, which kills this cluster without a graceful stop; /);
    // What `docker stop` does: SIGTERM to the container's PID 1 (npm, the child of unshare here).
    const [npm] = childrenOf(run.child.pid!);
    process.kill(npm!, 'SIGTERM');
    // Every process of the namespace ended (their output pipes closed), the primary with no drain.
    await run.exited();
    expect(run.output()).toMatch(/npm error signal SIGTERM/);
    expect(run.output()).not.toContain('shutting down');
  });

  itWithShell('[H307] npm run of a package.json script, a config file of several apps: the launcher says it once, its apps do not', async () => {
    const runtime = runtimeDir();
    const project = npmProject(
      {
        'server.cjs': kServer,
        'two.config.json': JSON.stringify({
          apps: [
            { name: 'na1', script: 'server.cjs', workers: 1, env: { PORT: String(await freePort()) } },
            { name: 'na2', script: 'server.cjs', workers: 1, env: { PORT: String(await freePort()) } },
          ],
        }),
      },
      { serve: 'clusterkit run -c two.config.json' },
    );
    const run = startNpm(['run', 'serve'], project, runtime);
    for (const name of ['na1', 'na2']) await run.waitFor(new RegExp(`\\[${name}\\] service ${name} started`));
    const warnings = run.output().split('\n').filter((line) => kWarning.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\[clusterkit\] WARN started through npm and a shell \(pid \d+: npm run serve; pid \d+: sh\): .* leaves these apps running /);
    expect(Number(kWarning.exec(warnings[0]!)![1])).toBe(run.child.pid);
    // Ctrl-C to the whole group stops every app.
    process.kill(-run.child.pid!, 'SIGINT');
    await run.exited();
    expect(run.output()).toMatch(/\[na1\] shutdown complete graceful=1/);
  });

  it('[H307] started directly, or by npm with no shell in between (the script execs clusterkit): no such line; npm then passes the SIGTERM on', async () => {
    const runtime = runtimeDir();
    const project = npmProject({ 'server.cjs': kServer }, { serve: 'exec clusterkit run server.cjs -w 1 --name npmdirect' });
    const direct = startCli(['run', 'server.cjs', '-w', '1', '--name', 'plain'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await direct.waitFor(/service plain started/);
    const run = startNpm(['run', 'serve'], project, runtime, { PORT: String(await freePort()) });
    await run.waitFor(/service npmdirect started/);
    expect(direct.output()).not.toContain('started through npm');
    expect(run.output()).not.toContain('started through npm');
    // npm's own child: the SIGTERM reaches it, npm waits and exits with its code.
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    expect(run.output()).toMatch(/\[npmdirect\] shutdown complete graceful=1 failed=0 killed=0/);
    process.kill(direct.child.pid!, 'SIGINT');
    expect(await direct.exited()).toBe(0);
  });

  // util-linux `script` gives npm a terminal; without it (not Linux), there is nothing to run.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  (hasScript ? it : it.skip)('[H307] npx in a terminal says nothing: Ctrl-C reaches the whole group there', async () => {
    const runtime = runtimeDir();
    const project = npmProject({ 'server.cjs': kServer });
    const child = spawn('script', ['-qc', 'npm exec --no -- clusterkit run server.cjs -w 1 --name npmtty', '/dev/null'], {
      cwd: project,
      detached: true,
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, NODE_ENV: 'production', PORT: String(await freePort()), npm_config_update_notifier: 'false', npm_config_offline: 'true' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const primaryPid = () => Number(/primary=(\d+)/.exec(output)?.[1] ?? 0);
    // `script` runs npm in a session of its own: its group (npm's, the primary's) and script's are killed after the test.
    const groups = [child.pid!];
    onCleanup(() => {
      for (const group of groups) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    });
    await until(() => primaryPid() > 0, 30_000, 'the primary started in the terminal');
    groups.push(processGroup(primaryPid()));
    expect(output).toContain('service npmtty started');
    expect(output).not.toContain('started through npm');
    expect(await cli(['stop', 'npmtty'], { runtime })).toMatchObject({ code: 0 });
    await waitUntilGone([primaryPid()]);
  });
});

/** The process group of `pid` (from /proc/<pid>/stat), or `pid` itself when /proc cannot say. */
function processGroup(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) || pid;
  } catch {
    return pid;
  }
}
