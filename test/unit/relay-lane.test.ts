/**
 * A relayed `sendTo()` held at the primary, behind its sender's earlier relays to one target, whose
 * turn comes as those time out just before its own deadline (hostile t67 F3). It was sent then,
 * with a sliver of its time, ran at the target after its sender gave up, and was said "did not
 * reply ... the handler may be slow". Now it is not sent, and says it was never sent, and behind
 * how many.
 */
import { describe, expect, it } from '@jest/globals';
import { inLane } from '../../src/primary/features/relay.js';
import type { WorkerRecord } from '../../src/primary/pool/worker-record.js';

/** Lanes are keyed by the records only: plain objects stand for them. */
const record = (): WorkerRecord => ({}) as WorkerRecord;

describe('a relay held in its sender\'s lane', () => {
  it('[H671] whose turn comes too late is not sent: it fails as never sent, behind the relays ahead of it, and the next one goes', async () => {
    const target = record();
    const sender = record();
    const signal = new AbortController().signal;
    let settleFirst!: (value: string) => void;
    const sent: string[] = [];
    const send = (name: string, answer: Promise<string>) => () => {
      sent.push(name);
      return answer;
    };
    const unsent = (ahead: number) => Object.assign(new Error(`never sent, behind ${ahead}`), { queuedBehind: ahead });
    const first = inLane(target, sender, 1, 60_000, signal, send('first', new Promise<string>((resolve) => (settleFirst = resolve))), unsent, () => false);
    const late = inLane(target, sender, 1, 60_000, signal, send('late', Promise.resolve('late ran')), unsent, () => true);
    const next = inLane(target, sender, 1, 60_000, signal, send('next', Promise.resolve('next ran')), unsent, () => false);
    expect(sent).toEqual(['first']);
    settleFirst('first ran');
    await expect(first).resolves.toBe('first ran');
    await expect(late).rejects.toMatchObject({ message: 'never sent, behind 1', queuedBehind: 1 });
    await expect(next).resolves.toBe('next ran');
    expect(sent).toEqual(['first', 'next']);
  });
});
