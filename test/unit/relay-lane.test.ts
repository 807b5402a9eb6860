/**
 * A relayed `sendTo()` held at the primary, behind its sender's earlier relays to one target, whose
 * turn comes as those time out just before its own deadline (hostile t67 F3). It was sent then,
 * with a sliver of its time, ran at the target after its sender gave up, and was said "did not
 * reply ... the handler may be slow". Now it is not sent, and says it was never sent, and behind
 * how many.
 */
import { describe, expect, it } from '@jest/globals';
import { MessageTimeoutError } from '../../src/errors.js';
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

  it('[H679] a sendTo() that timed out with no answer from the primary does not blame the target\'s handler: whether the target got it is not known', () => {
    // Retest t68 #3: a busy primary's answers came after the sender's own timer, which said
    // `Worker "beta" (through the primary) did not reply ... The handler may be slow`.
    const error = new MessageTimeoutError('work', 3_000, 'worker "beta" (through the primary)', undefined, undefined, { waitedMs: 4_000 });
    expect(error.message).toBe(
      'No answer came from the primary within 4000 ms about "work", which it relays to worker "beta" with a timeout of 3000 ms: the primary was too busy to answer in time, ' +
        'so whether the target got it, or replied, is not known. Send fewer sendTo() at once (await them in batches), or raise "timeoutMs"; retry it only if running it twice is safe.',
    );
    expect(error).toMatchObject({ code: 'ERR_MESSAGE_TIMEOUT', isRelayUnanswered: true, queuedBehind: undefined });
    // Never sent (it waited in the sender's own queue): said as before.
    expect(new MessageTimeoutError('work', 3_000, 'worker "beta" (through the primary)', 4, undefined, { waitedMs: 4_000 }).message).toMatch(/^"work" was never sent to worker "beta"/);
  });
});
