/**
 * Sticky connections waiting in the primary are bounded by its descriptors too (H619): under a
 * low open-file limit, past the bound libuv closed what it accepted with no word (its EMFILE
 * fallback): no `stickyRefused`, no line, no count (hostile tester t62: 1,999 of 3,000
 * connections closed under `ulimit -n 1024`). Now at most half the open-file limit wait, for all
 * workers together; past it a connection is refused and told as any `queue-full` one.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon } from '../helpers/http.js';
import { jsonLines, spawnNode } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';

const kScript = 'test/fixtures/sticky-fd-limit-primary.ts';

function startUnderLimit(openFiles: number, dir: string) {
  const bundles = process.env.CLUSTERKIT_TEST_FIXTURES;
  const bundle = bundles && join(bundles, 'sticky-fd-limit-primary.js');
  const run = bundle && existsSync(bundle) ? [bundle] : ['--import', 'tsx', kScript];
  // sh lowers the limit (soft and hard: Node raises its soft limit to the hard one), then becomes node.
  return spawnNode(['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...run, dir], { executable: '/bin/sh', label: kScript });
}

describe('sticky connections under a low open-file limit', () => {
  it('[H619][H628] at most half the open-file limit wait in the primary; past it each is refused and told, none closed unsaid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-fdlimit-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    onCleanup(() => writeFileSync(join(dir, 'gate'), ''));
    onCleanup(() => writeFileSync(join(dir, 'finish'), ''));
    const primary = startUnderLimit(200, dir);
    const line = (event: string) => jsonLines<{ event: string; [field: string]: unknown }>(primary.stdout()).find((each) => each.event === event);
    await until(() => line('listening') !== undefined || primary.child.exitCode !== null, 90_000, 'the fixture primary to listen');
    const port = line('listening')!.port as number;
    // 150 for the blocked worker: 100 may wait, one more is written to its channel.
    let closed = 0;
    const outcomes = Array.from({ length: 150 }, () => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      onCleanup(() => abandon(socket));
      return new Promise<string>((resolve) => {
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', () => {});
        socket.on('close', () => {
          if (!/pid:\d+/.test(received)) closed++;
          resolve(/pid:\d+/.exec(received)?.[0] ?? 'closed');
        });
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
    });
    await until(() => closed >= 40, 60_000, 'connections past the bound closed');
    writeFileSync(join(dir, 'done'), '');
    await until(() => line('refused') !== undefined || primary.child.exitCode !== null, 60_000, 'the refusals told');
    const { reasons, limits, total } = line('refused') as unknown as { reasons: string[]; limits: string[]; total: number };
    expect(reasons).toEqual(['queue-full']);
    // [H628] The limit reached is said: half of `ulimit -n 200`, not maxQueued (4096).
    expect(limits).toEqual(['openFiles:100']);
    // Served once the worker unblocks: every connection of the 150 was either refused and told, or answered.
    const results = await Promise.all(outcomes);
    const refusedHere = results.filter((result) => result === 'closed').length;
    expect(total).toBe(refusedHere + 1); // and the fixture's own probe
    expect(refusedHere).toBeGreaterThanOrEqual(40);
    expect(results.filter((result) => result.startsWith('pid:')).length).toBe(150 - refusedHere);
    writeFileSync(join(dir, 'finish'), '');
    await until(() => line('stopped') !== undefined || primary.child.exitCode !== null, 60_000, 'the fixture primary to stop');
    await expect(primary.exited()).resolves.toBe(0);
  });
});
