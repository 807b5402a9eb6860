/**
 * `clusterkit logs <name>` (with and without --follow) on a primary that does not answer (its
 * process stopped by SIGSTOP): after the 5 s `status` waits, one line on stderr names it, in the
 * words stop and reload use, and the command waits on; resumed (SIGCONT), the lines print. Ctrl-C
 * before the answer says so and the command dies of SIGINT, as stop and reload do; before, it
 * waited silently, and Ctrl-C said the primary "closed the control connection before it
 * answered", exit 1 (H509). A healthy `logs --follow` ended by Ctrl-C still exits 0, silent.
 * Real processes; every stopped primary is resumed (SIGCONT) after its test, whatever happened.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cluster, freeze, kStoppedWords } from './frozen-cluster.js';
import { cleanUpCli, cli, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kNotice = (name: string, pid: number) =>
  `clusterkit: ${name}'s primary (pid ${pid}) has not answered the "logs" request in 5.0 s: ${kStoppedWords(pid)}. ` +
  'Still waiting, with no time limit: its lines print once it answers; Ctrl-C gives up.\n';

describe('logs on a primary that does not answer', () => {
  for (const follow of [false, true]) {
    it(`[H509] logs${follow ? ' --follow' : ''} names the stopped primary after 5 s and waits on; Ctrl-C says it had not answered, and dies of SIGINT`, async () => {
      const name = follow ? 'frozenlf' : 'frozenl';
      const { run, runtime, pid } = await cluster(name);
      freeze(pid);
      const logs = startCli(['logs', name, ...(follow ? ['--follow'] : [])], { runtime });
      await logs.waitFor(/has not answered the "logs" request/, 60_000);
      expect(logs.stderr()).toBe(kNotice(name, pid));
      expect(logs.stdout()).toBe('');
      expect(logs.child.exitCode).toBeNull();
      logs.child.kill('SIGINT');
      await expect(logs.exited()).resolves.toBe('SIGINT');
      // Before: `The cluster "<name>" closed the control connection before it answered "logs"; its primary may be exiting.`, exit 1.
      expect(logs.stderr()).not.toMatch(/closed the control connection|may be exiting/);
      expect(logs.stderr().slice(0, kNotice(name, pid).length)).toBe(kNotice(name, pid));
      expect(logs.stderr().slice(kNotice(name, pid).length)).toMatch(
        new RegExp(
          `^clusterkit: stopped waiting \\(SIGINT\\); ${name}'s primary \\(pid ${pid}\\) had not answered the "logs" request in \\d+\\.\\d s: ` +
            `its process is stopped \\(kill -STOP or a debugger; kill -CONT ${pid} resumes it\\)\\. ` +
            `Nothing was asked of it but its lines; "clusterkit logs ${name}" shows them once it answers\\.\\n$`,
        ),
      );
      expect(run.child.exitCode).toBeNull();
    });
  }

  it('[H509] logs waits on through the note: once the primary is resumed (SIGCONT), its lines print and it exits 0', async () => {
    const { run, runtime, pid } = await cluster('thawed');
    const resume = freeze(pid);
    const logs = startCli(['logs', 'thawed'], { runtime });
    await logs.waitFor(/has not answered the "logs" request/, 60_000);
    expect(logs.stdout()).toBe('');
    resume();
    await expect(logs.exited()).resolves.toBe(0);
    expect(logs.stdout()).toMatch(/^\[thawed\] .*service thawed started/m);
    expect(logs.stderr().slice(0, kNotice('thawed', pid).length)).toBe(kNotice('thawed', pid));
    expect(logs.stderr().slice(kNotice('thawed', pid).length)).toMatch(/^clusterkit: thawed's primary answered "logs" after \d+\.\d s\.\n$/);
    expect((await cli(['stop', 'thawed'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H509] logs --follow on a resumed primary follows as usual; a healthy follow ended by Ctrl-C exits 0, silent', async () => {
    const { run, runtime, pid } = await cluster('thawedf');
    const resume = freeze(pid);
    const logs = startCli(['logs', 'thawedf', '--follow'], { runtime });
    await logs.waitFor(/has not answered the "logs" request/, 60_000);
    resume();
    await logs.waitFor(/^\[thawedf\] .*service thawedf started/m);
    await logs.waitFor(/answered "logs" after/);
    logs.child.kill('SIGINT');
    await expect(logs.exited()).resolves.toBe(0);
    expect(logs.stderr().slice(0, kNotice('thawedf', pid).length)).toBe(kNotice('thawedf', pid));
    expect(logs.stderr().slice(kNotice('thawedf', pid).length)).toMatch(/^clusterkit: thawedf's primary answered "logs" after \d+\.\d s\.\n$/);

    const healthy = startCli(['logs', 'thawedf', '--follow'], { runtime });
    await healthy.waitFor(/service thawedf started/);
    healthy.child.kill('SIGINT');
    await expect(healthy.exited()).resolves.toBe(0);
    // Nothing of the CLI's own: the primary's WARN lines of its history print on stderr too (its
    // stall while stopped is one, when its report comes before this follow reads the history).
    expect(healthy.stderr().split('\n').filter((line) => line !== '' && !line.startsWith('[thawedf] ')).join('\n')).toBe('');
    expect((await cli(['stop', 'thawedf'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
