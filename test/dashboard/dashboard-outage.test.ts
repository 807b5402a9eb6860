/**
 * [H386] The dashboard's timeline across a primary's outages, against real clusters (`clusterkit
 * run`): a primary SIGKILLed and started again, then stopped with SIGTERM. The timeline keeps the
 * first primary's events (each primary's seq starts at 1), marks each primary gone (lost: killed;
 * stopped) and the new one.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterFeed, type TimelineEvent } from '../../src/cli/dashboard/cluster-feed.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from '../cli/cli-process.js';

let feed: ClusterFeed | undefined;
afterEach(() => {
  feed?.stop();
  feed = undefined;
  cleanUpCli();
});

// Its workers take 2.5 s to stop, as a real app's draining: the feed reads the stopping primary at least once.
const kServer = [
  "const server = require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));",
  "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 2500));",
  "process.on('SIGINT', () => setTimeout(() => process.exit(0), 2500));",
  '',
].join('\n');

describe('dashboard timeline across primaries', () => {
  it('[H386] keeps a SIGKILLed primary\'s events, marks it lost and the new primary started, and a stopped one\'s shutdown', async () => {
    const runtime = runtimeDir();
    const cwd = tempProject({ 'server.cjs': kServer });
    const env = { PORT: String(await freePort()) };
    const first = startCli(['run', 'server.cjs', '-w', '2', '--name', 'outage'], { runtime, cwd, env });
    await first.waitFor(/service outage started: 2 workers /);
    feed = new ClusterFeed({ name: 'outage', directory: join(runtime, 'clusterkit') });
    await feed.start();
    const events = (): TimelineEvent[] => feed!.snapshot().events;
    const firstPid = first.child.pid!;
    await until(() => events().filter((event) => event.type === 'workerReady').length === 2, 10_000, 'the first primary\'s workers ready in the timeline');
    // kill -9 of the primary and its workers (its process group).
    process.kill(-firstPid, 'SIGKILL');
    await first.exited();
    await until(() => events().some((event) => event.type === 'primaryGone'), 10_000, 'the first primary marked gone');
    const second = startCli(['run', 'server.cjs', '-w', '2', '--name', 'outage'], { runtime, cwd, env });
    await second.waitFor(/service outage started: 2 workers /);
    const secondPid = second.child.pid!;
    await until(() => events().filter((event) => event.type === 'workerReady').length === 4, 10_000, 'the second primary\'s workers ready in the timeline');
    process.kill(secondPid, 'SIGTERM');
    await second.exited();
    await until(() => events().filter((event) => event.type === 'primaryGone').length === 2, 10_000, 'the second primary marked gone');
    const timeline = events();
    const marks = timeline.filter((event) => event.type === 'primaryGone' || event.type === 'primaryStarted');
    expect(marks).toEqual([
      expect.objectContaining({ type: 'primaryGone', pid: firstPid, how: 'lost' }),
      expect.objectContaining({ type: 'primaryStarted', pid: secondPid, previousPid: firstPid }),
      expect.objectContaining({ type: 'primaryGone', pid: secondPid, how: 'stopped' }),
    ]);
    const [lost, started, stopped] = marks.map((mark) => timeline.indexOf(mark));
    const of = (pid: number, type: string) => timeline.flatMap((event, index) => ('primaryPid' in event && event.primaryPid === pid && event.type === type ? [index] : []));
    // The first primary's events stay, before its mark (each primary's seq starts at 1).
    expect(of(firstPid, 'workerReady')).toEqual([expect.any(Number), expect.any(Number)]);
    expect(Math.max(...of(firstPid, 'workerReady'))).toBeLessThan(lost!);
    expect(Math.min(...of(secondPid, 'workerFork'))).toBeGreaterThan(started!);
    // The stop's first event, read while it stopped; the timeline goes on past it to the mark.
    expect(of(secondPid, 'shutdown')).toHaveLength(1);
    expect(Math.max(...of(secondPid, 'shutdown'))).toBeLessThan(stopped!);
  }, 60_000);
});
