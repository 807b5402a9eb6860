import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';

/** Every command that names a cluster, typed right, for a name that does not run. */
const kCommands = (name: string): string[][] => [
  ['stop', name],
  ['reload', name],
  ['scale', name, '2'],
  ['show', name],
  ['describe', name],
  ['status', name],
  ['status', name, '--watch'],
  ['logs', name],
  ['logs', name, '--follow'],
  ['dashboard', name, '--port', '0'],
];

describe('a cluster name that is not running', () => {
  // Before: exit 2, the code of a typo in the command, so a deploy script could not tell
  // "already stopped" from bad usage (newcomer t24).
  it('[H224] exits 4 (not 2, bad usage; not 1, a failure), with the did-you-mean and no usage line, for every command', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', idle, '-w', '1', '--name', 'webapp'], { runtime });
    try {
      await run.waitFor(/service webapp started/);
      const commands = kCommands('webap');
      const results = await Promise.all(commands.map((args) => cli(args, { runtime })));
      results.forEach((result, index) => {
        expect({ args: commands[index], code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
          args: commands[index],
          code: 4,
          stdout: '',
          stderr: 'clusterkit: No cluster named "webap" is running. Running: "webapp". Did you mean "webapp"?\n',
        });
      });
      // Bad usage keeps exit 2, with the usage line.
      const usage = await cli(['stop', 'webapp', 'extra'], { runtime });
      expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: clusterkit stop <name>') });
      // The help of each says so.
      expect((await cli(['stop', '--help'], { runtime })).stdout).toContain('4 no cluster of that name is running');
      expect((await cli(['stop', 'webapp'], { runtime })).code).toBe(0);
      await expect(run.exited()).resolves.toBe(0);
      // Once stopped: a second stop is told apart from a failed one. Moments after the stop, it
      // was already stopped, exit 0 (H453); a name that never ran keeps exit 4, as above.
      expect(await cli(['stop', 'webapp'], { runtime })).toEqual({
        code: 0,
        stdout: expect.stringMatching(/^webapp was already stopped, \d+(\.\d)? (ms|s) ago: nothing to do\n$/),
        stderr: '',
      });
    } finally {
      cleanUpCli();
    }
  });

  // PM2 migrator t39 L3: `clusterkit logs` and `clusterkit stop` bare, as `pm2 logs` is typed, said only "Missing the cluster name."
  it('[H402] a command typed without the cluster name lists the running clusters (exit 2, with the usage line), or says none runs', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', idle, '-w', '1', '--name', 'webapp'], { runtime });
    try {
      await run.waitFor(/service webapp started/);
      for (const command of ['logs', 'stop', 'reload', 'show', 'dashboard']) {
        const result = await cli([command], { runtime });
        expect({ command, code: result.code, stdout: result.stdout }).toEqual({ command, code: 2, stdout: '' });
        expect(result.stderr).toMatch(new RegExp(`^clusterkit: Missing the cluster name\\. Running: "webapp" \\(clusterkit ${command} webapp\\)\\.\\nUsage: clusterkit ${command} <name>`));
      }
      expect((await cli(['scale'], { runtime })).stderr).toMatch(/^clusterkit: Missing the cluster name and the worker count\. Running: "webapp" \(clusterkit scale webapp\)\.\n/);
      expect((await cli(['stop', 'webapp'], { runtime })).code).toBe(0);
      await expect(run.exited()).resolves.toBe(0);
      expect((await cli(['logs'], { runtime })).stderr).toMatch(/^clusterkit: Missing the cluster name\. No cluster is running \(for this user; looked in [^\n]*\/clusterkit \(\$XDG_RUNTIME_DIR\/clusterkit\): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen\); start one with "clusterkit run"\.\nUsage: clusterkit logs <name>/);
    } finally {
      cleanUpCli();
    }
  });

  it('[H498] "all" and a PM2 process id get no "Did you mean" of a running name; an id says clusters are named, and logs gives --slot', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', idle, '-w', '1', '--name', 'api'], { runtime });
    try {
      await run.waitFor(/service api started/);
      const [reloadAll, logsId, stopId] = await Promise.all([cli(['reload', 'all'], { runtime }), cli(['logs', '0'], { runtime }), cli(['stop', '1'], { runtime })]);
      // Before (pm2 tester t53): `Running: "api". Did you mean "api"? There is no "all" here`, and `logs 0` only `Did you mean "api"?`.
      expect(reloadAll).toMatchObject({ code: 4, stderr: expect.stringContaining('Running: "api". There is no "all" here') });
      expect(logsId).toEqual({
        code: 4,
        stdout: '',
        stderr: 'clusterkit: No cluster named "0" is running. Running: "api". "0" looks like a PM2 process id: a cluster is named here, not numbered (clusterkit list names them); a worker\'s lines by its slot: clusterkit logs <name> --slot 0.\n',
      });
      expect(stopId).toMatchObject({ code: 4, stderr: expect.stringContaining('"1" looks like a PM2 process id: a cluster is named here, not numbered (clusterkit list names them).\n') });
      for (const answer of [reloadAll, logsId, stopId]) expect(answer.stderr).not.toContain('Did you mean');
      expect((await cli(['stop', 'api'], { runtime })).code).toBe(0);
      await expect(run.exited()).resolves.toBe(0);
    } finally {
      cleanUpCli();
    }
  });

  it('[H367][H372] "all" (any case) and a config file\'s path, as a PM2 user types them: what to type instead (each name, or a signal to the run of the config file)', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', idle, '-w', '1', '--name', 'webapp'], { runtime });
    try {
      await run.waitFor(/service webapp started/);
      const [reloadAll, statusAll, stopAll, reloadFile, plain] = await Promise.all([
        cli(['reload', 'all'], { runtime }),
        cli(['status', 'all'], { runtime }),
        cli(['stop', 'all'], { runtime }),
        cli(['reload', 'ecosystem.config.cjs'], { runtime }),
        cli(['reload', 'webap'], { runtime }),
      ]);
      // Before: only "No cluster named "all" is running. Running: "webapp"."
      expect(reloadAll).toEqual({
        code: 4,
        stdout: '',
        stderr:
          'clusterkit: No cluster named "all" is running. Running: "webapp". There is no "all" here (PM2\'s pm2 reload all): run clusterkit reload <name> for each cluster (clusterkit list names them), ' +
          'or send SIGHUP to the clusterkit run of their config file: it reloads every app it started.\n',
      });
      expect(statusAll).toMatchObject({ code: 4, stderr: expect.stringContaining('There is no "all" here (PM2\'s pm2 status all): run clusterkit status <name> for each cluster (clusterkit list names them).\n') });
      expect(stopAll).toMatchObject({ code: 4, stderr: expect.stringContaining('or send SIGTERM to the clusterkit run of their config file: it stops every app it started.\n') });
      expect(reloadFile).toMatchObject({
        code: 4,
        stderr: expect.stringContaining('"ecosystem.config.cjs" looks like a config file, not a cluster\'s name: its apps run as clusters of their own names (the "name" of each app); run clusterkit reload <name> for each cluster'),
      });
      // Before (retest t37 N9): `reload ALL` got no hint, and `reload ./ecosystem.config.cjs` was
      // told to `Try "ecosystem.config.cjs"`, which is no cluster either.
      const [reloadUpper, stopPath] = await Promise.all([cli(['reload', 'ALL'], { runtime }), cli(['stop', './apps/ecosystem.config.cjs'], { runtime })]);
      expect(reloadUpper).toMatchObject({ code: 4, stderr: expect.stringContaining('. There is no "ALL" here (PM2\'s pm2 reload all): run clusterkit reload <name> for each cluster (clusterkit list names them), or send SIGHUP') });
      expect(stopPath).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(
          'clusterkit: "./apps/ecosystem.config.cjs" is not a cluster name: it has a "/". "./apps/ecosystem.config.cjs" looks like a config file, not a cluster\'s name: its apps run as clusters of their own names (the "name" of each app); run clusterkit stop <name> for each cluster (clusterkit list names them), or send SIGTERM to the clusterkit run of their config file: it stops every app it started.\n',
        ),
      });
      expect(stopPath.stderr).not.toContain('Try "');
      // Any other name keeps its line as it was.
      expect(plain.stderr).toBe('clusterkit: No cluster named "webap" is running. Running: "webapp". Did you mean "webapp"?\n');
      // PM2's reset gets an answer too.
      expect(await cli(['reset', 'webapp'], { runtime })).toMatchObject({ code: 2, stderr: expect.stringContaining('PM2\'s "reset" is not available: the restarts and crashes counts') });
      expect((await cli(['stop', 'webapp'], { runtime })).code).toBe(0);
      await expect(run.exited()).resolves.toBe(0);
    } finally {
      cleanUpCli();
    }
  });
});
