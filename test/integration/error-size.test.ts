/**
 * H330: an error reply is bounded when it is built, in every direction. A handler that throws a
 * 9 MB message, a 20 MB `code`, a thrown 20 MB string or a 20 MB stack used to send it whole:
 * over the primary's `maxMessageBytes`, so the primary took the worker's channel for corrupt and
 * killed it (SIGKILL), with every request in flight on it. Now the caller gets a RemoteError
 * whose text says the cut, the worker lives, and a request sent behind it is answered.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type PrimaryOptions } from '../../src/index.js';
import { hugeThrown, summarize, type HugeKind, type RemoteSummary } from '../fixtures/huge-thrown.js';
import { testOptions, track } from '../helpers/primary.js';

const kFixture = 'huge-throw-worker.ts';
const kKinds: readonly HugeKind[] = ['message', 'code', 'string', 'stack'];
const kTextChars = 65_536;

class HugeThrowPrimary extends ClusterPrimary {
  _onMessage_throwHuge(payload: { kind: HugeKind }): never {
    throw hugeThrown(payload.kind);
  }
}

async function start(extra: PrimaryOptions = {}) {
  const primary = track(new HugeThrowPrimary(testOptions(kFixture, extra)));
  const [worker] = await primary.start();
  return { primary, worker: worker! };
}

/** What the caller must see for `kind`: a RemoteError whose text is cut, and says so. */
function expectCut(summary: RemoteSummary, kind: HugeKind, textChars = kTextChars): void {
  expect(summary.isRemoteError).toBe(true);
  expect(summary.messageLength).toBeLessThanOrEqual(textChars);
  if (kind === 'message') expect(summary.messageTail).toMatch(new RegExp(`E… \\(9000000 characters, cut to ${textChars}\\)$`));
  // A thrown string is a non-Error: its message is `Non-error value thrown: ` (24 characters) and the string (H428).
  if (kind === 'string') expect(summary.messageTail).toMatch(new RegExp(`S… \\(20000024 characters, cut to ${textChars}\\)$`));
  if (kind === 'code') {
    expect(summary.messageTail).toBe('huge code');
    expect(summary.codeLength).toBeLessThanOrEqual(256);
    expect(summary.codeTail).toMatch(/C… \(20000000 characters, cut to 256\)$/);
  }
  if (kind === 'stack') {
    expect(summary.messageTail).toBe('huge stack');
    expect(summary.stackLength).toBeLessThanOrEqual(kTextChars);
    expect(summary.stackHasCut).toBe(true);
    // Cut in its middle: the frames at its end survive.
    expect(summary.stackTail).toMatch(/at last frame$/);
  }
}

describe('[H330] an error reply over the message limit', () => {
  it.each(['json', 'advanced'] as const)('[H330] a worker handler throwing a huge value gets the primary a cut RemoteError; the worker lives and answers the request behind it (%s)', async (serialization) => {
    const { primary, worker } = await start({ serialization });
    const pid = worker.pid;
    for (const kind of kKinds) {
      const thrown = primary.send(worker, 'throwHuge', { kind }).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      const behind = primary.send(worker, 'pid');
      expectCut(summarize(await thrown), kind);
      await expect(behind).resolves.toBe(pid);
    }
    expect(primary.workers.map((handle) => handle.pid)).toEqual([pid]);
  });

  it('[H330] a primary handler throwing a huge value gets the worker a cut RemoteError', async () => {
    const { primary, worker } = await start();
    for (const kind of kKinds) {
      const answer = primary.send(worker, 'askPrimary', { kind });
      const behind = primary.send(worker, 'pid');
      expectCut((await answer) as RemoteSummary, kind);
      await expect(behind).resolves.toBe(worker.pid);
    }
  });

  it('[H330] a sendTo() whose target throws a huge value gets the sender a cut RemoteError; the target lives', async () => {
    const { primary, worker } = await start();
    const [peer] = await primary.fork({ name: 'peer' });
    const peerPid = peer!.pid;
    for (const kind of kKinds) {
      const answer = primary.send(worker, 'askPeer', { target: 'peer', kind });
      const behind = primary.send(peer!, 'pid');
      expectCut((await answer) as RemoteSummary, kind);
      await expect(behind).resolves.toBe(peerPid);
    }
    expect(primary.workers.map((handle) => handle.pid).sort()).toEqual([worker.pid, peerPid].sort());
  });

  it('[H330] under a small maxMessageBytes an error reply is cut further, to fit it', async () => {
    const { primary, worker } = await start({ maxMessageBytes: 12_000 });
    const summary = summarize(await primary.send(worker, 'throwHuge', { kind: 'message' }).catch((error: unknown) => error));
    expect(summary.isRemoteError).toBe(true);
    expect(summary.messageTail).toMatch(/E… \(9000000 characters, cut to 1000\)$/);
    expect(summary.stackLength).toBeUndefined();
    await expect(primary.send(worker, 'pid')).resolves.toBe(worker.pid);
  });
});
