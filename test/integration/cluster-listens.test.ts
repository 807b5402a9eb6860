/**
 * The listening addresses a primary holds for its workers are bounded cluster-wide, not only per
 * worker: 5 workers each under the per-worker 256 took a primary with 1024 descriptors to
 * 1024/1024, and its control socket stopped answering. The bound is half the open-file limit;
 * the fixture primary runs under `ulimit -n 400`, a bound of 200.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { jsonLines, spawnNode } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';

const kScript = 'test/fixtures/listen-limit-primary.ts';

function startUnderLimit(openFiles: number) {
  const bundles = process.env.CLUSTERKIT_TEST_FIXTURES;
  const bundle = bundles && join(bundles, 'listen-limit-primary.js');
  const run = bundle && existsSync(bundle) ? [bundle] : ['--import', 'tsx', kScript];
  // sh lowers the limit (soft and hard: Node raises its soft limit to the hard one), then becomes node.
  return spawnNode(['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...run], { executable: '/bin/sh', label: kScript });
}

describe('listening addresses held for all the workers together', () => {
  it('[H68] shared keys count once; the worker whose own listens take the cluster past half the open-file limit is killed, and its addresses released', async () => {
    const primary = startUnderLimit(400);
    const line = (event: string) => jsonLines<{ event: string; [field: string]: unknown }>(primary.stdout()).find((each) => each.event === event);
    await until(() => line('stopped') !== undefined || primary.child.exitCode !== null, 90_000, 'the fixture primary to finish').catch((error: Error) => {
      throw new Error(`${error.message}. Output:\n${primary.output()}`);
    });
    expect(line('limit')).toMatchObject({ max: 200 });
    // Two workers on the same 120 keys: 120 addresses, no kill.
    expect(line('shared')).toMatchObject({ size: 120, errors: 0 });
    // The second worker's 81st key of its own would make 201: killed though it holds 200 (< 256).
    const killed = line('killed')!;
    expect(killed).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'too-many-servers', isClusterWide: true });
    expect(killed.message).toMatch(/asked the primary for one more listening address .* when the workers together already held 200, the cluster-wide bound \(half the primary's open-file limit\)/);
    // Its keys left the count with it; the first worker's 120 stay.
    expect(line('replaced')).toMatchObject({ size: 120 });
    expect(line('stopped')).toMatchObject({ size: 0 });
    await expect(primary.exited()).resolves.toBe(0);
  });
});
