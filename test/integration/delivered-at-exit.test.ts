/**
 * A response fully handed to the operating system is delivered, even when the worker exits in
 * the same tick as its `res.end()`, before Node emits the response's 'finish' and 'close': the
 * client got every byte, and no request counts as cut off. A response whose bytes are still
 * buffered in the process as it exits is cut off, and still counted. Real workers, real clients.
 */
import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { WorkerCrashEvent } from '../../src/index.js';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon, get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

async function exitingWorker() {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port) }, logger, restart: false }, 'workers/slow-http.ts');
  const [worker] = await primary.start();
  const events = recordClusterEvents(primary); // what clusterkit status and the dashboard show
  onCleanup(() => events.stop());
  const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 30_000, (event) => event.worker === worker);
  return { primary, worker: worker!, port, text, events, crash };
}

/** The value of one sample of the primary's metrics exposition. */
async function cutByCrash(primary: { metrics(): Promise<string> }): Promise<number> {
  const line = /^clusterkit_requests_cut_total\{reason="crash"\} (\d+)$/m.exec(await primary.metrics());
  return Number(line?.[1]);
}

describe('a worker that exits right after res.end()', () => {
  it('[H466] process.exit(3) in the tick of res.end("bye"): the client gets the whole answer, and no request counts as cut off (event, log, metrics)', async () => {
    const { primary, worker, port, text, events, crash } = await exitingWorker();
    const answer = await get(`http://127.0.0.1:${port}/?endExit=3`, 30_000);
    expect(answer).toEqual({ status: 200, body: 'bye' });
    const event = await crash;
    expect(event.lostRequests ?? 0).toBe(0);
    await until(() => text().includes(`worker ${worker.id} `), 20_000, 'the crash line');
    // Before: "1 request cut off (open as it exited ...)" and lostRequests=1, for a delivered answer.
    expect(text()).not.toContain('cut off');
    expect(text()).not.toMatch(/lostRequests=[1-9]/);
    expect(events.log.read().events).not.toContainEqual(expect.objectContaining({ type: 'workerRequestsCut' }));
    expect(await cutByCrash(primary)).toBe(0);
  });

  it('[H466] process.exit(3) in the tick of res.end() of 8 MiB to a client that does not read: the bytes still buffered are lost, and the request counts as cut off', async () => {
    const { primary, worker, port, text, crash } = await exitingWorker();
    const socket = connect(port, '127.0.0.1');
    onCleanup(() => abandon(socket));
    socket.on('error', () => {});
    socket.pause(); // reads nothing: most of the body stays in the worker's buffers
    socket.write('GET /?endExit=3&mb=8 HTTP/1.1\r\nHost: x\r\n\r\n');
    const event = await crash;
    expect(event.lostRequests).toBe(1);
    await until(() => text().includes('1 request cut off'), 20_000, 'the crash line');
    expect(text()).toMatch(new RegExp(`worker ${worker.id} .*1 request cut off .*lostRequests=1`));
    expect(await cutByCrash(primary)).toBe(1);
  });
});
