/**
 * A primary frozen (kill -STOP): `list`, `status` and `show` say, as `stop` and `scale` do, that
 * its process is stopped, with its pid and the way out (kill -CONT). They said only "may be
 * blocked", and `show` named a socket path, not the cluster (ops tester t54).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli } from './cli-process.js';
import { cluster, freeze } from './frozen-cluster.js';

afterEach(() => cleanUpCli());

describe('a frozen primary, as list, status and show tell it', () => {
  it('[H513] each names its pid and says its process is stopped, with kill -CONT; show names the cluster', async () => {
    const { runtime, pid } = await cluster('rt-f');
    freeze(pid);
    const [list, status, show] = await Promise.all([cli(['list'], { runtime }), cli(['status', 'rt-f'], { runtime }), cli(['show', 'rt-f'], { runtime })]);
    const stopped = `primary (pid ${pid}) is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it)`;
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`did not answer "status": no answer within 5000 ms. Its ${stopped}; try "clusterkit status rt-f" again`);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`Its ${stopped}`);
    expect(show.code).not.toBe(0);
    expect(show.stderr).toContain(`The cluster "rt-f" did not answer "show" within 5000 ms: its ${stopped}`);
    expect(show.stderr).not.toContain('.sock');
    process.kill(pid, 'SIGCONT');
    // Resumed: it answers again.
    expect((await cli(['status', 'rt-f'], { runtime })).code).toBe(0);
  });
});
