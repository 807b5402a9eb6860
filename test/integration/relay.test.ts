import { describe, expect, it } from '@jest/globals';
import { MessageTimeoutError, NoHandlerError, NoWorkerAvailableError, RemoteError, WorkerExitedError, type WorkerMessageEvent } from '../../src/index.js';
import type { ToPrimary } from '../fixtures/protocol.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

async function relayPair() {
  const primary = testPrimary();
  await primary.start();
  const [alice] = await primary.fork({ name: 'alice' });
  const [bob] = await primary.fork({ name: 'bob' });
  return { primary, alice: alice!, bob: bob! };
}

/** `name: message` of each cause below `error` (revived plain errors from the worker), outermost first. */
function causesOf(error: unknown): string[] {
  const chain: string[] = [];
  for (let cause = (error as Error).cause; cause instanceof Error && chain.length < 8; cause = cause.cause) chain.push(`${cause.name}: ${cause.message}`);
  return chain;
}

describe('worker-to-worker messages', () => {
  it('relays a request by name or id and returns the target handler reply, with the sender in the context', async () => {
    const { primary, alice, bob } = await relayPair();
    await expect(primary.send(alice, 'relay', { target: 'bob', type: 'greet', payload: { name: 'Alice' } })).resolves.toBe('hi Alice (greet)');
    await expect(primary.send(alice, 'relay', { target: bob.id, type: 'echo', payload: { deep: [1, 2] } })).resolves.toEqual({ deep: [1, 2] });
    await expect(primary.send(alice, 'relay', { target: 'bob', type: 'whoSent' })).resolves.toEqual({ workerId: alice.id, name: 'alice' });
    await expect(primary.send(bob, 'whoSent')).resolves.toBe('primary');
  });

  it('rejects with NoWorkerAvailableError for an unknown target, and keeps the target errors', async () => {
    const { primary, alice } = await relayPair();
    const unknown = await primary.send(alice, 'relay', { target: 'carol', type: 'echo', payload: 1 }).catch((e: RemoteError) => e);
    // The sender's sendTo rejected with NoWorkerAvailableError; the test sees it through the relay fixture.
    expect(unknown).toMatchObject({ remoteName: 'NoWorkerAvailableError', remoteCode: 'ERR_NO_WORKER_AVAILABLE' });
    expect((unknown as RemoteError).remoteMessage).toContain('named "carol"');
    expect(causesOf(unknown)).toEqual([expect.stringMatching(/^RemoteError: The primary answered a sendTo\(\) it relays with NoWorkerAvailableError: .*named "carol"/)]);
    const failing = await primary.send(alice, 'relay', { target: 'bob', type: 'fail', payload: { message: 'bob refuses', code: 'E_BOB' } }).catch((e: RemoteError) => e);
    expect(failing).toMatchObject({ remoteName: 'RemoteError', remoteCode: 'ERR_REMOTE' });
    expect((failing as RemoteError).remoteMessage).toContain('bob refuses');
    const missing = await primary.send(alice, 'relay', { target: 'bob', type: 'noSuchType' }).catch((e: RemoteError) => e);
    expect(missing).toMatchObject({ remoteName: NoHandlerError.name });
  });

  it('[H676] a sendTo() to a misspelt type names the near miss, and one over maxMessageBytes names the user\'s type, not the relay\'s', async () => {
    const primary = testPrimary({ maxMessageBytes: 1024 * 1024 });
    await primary.start();
    const [alice] = await primary.fork({ name: 'alice' });
    await primary.fork({ name: 'bob' });
    // Before (hostile t68 F4): no nearMiss through sendTo(), where primary.send() had one.
    const missing = (await primary.send(alice!, 'relay', { target: 'bob', type: 'ech' }).catch((e: unknown) => e)) as RemoteError;
    expect(missing).toMatchObject({ remoteName: 'NoHandlerError', remoteCode: 'ERR_NO_HANDLER' });
    expect(missing.remoteMessage).toContain('has no handler for "ech", but it has "_onMessage_echo"');
    // Before (hostile t68 F5): `The payload of "$relay" is about ...`, messageType "$relay".
    const large = (await primary.send(alice!, 'relay', { target: 'bob', type: 'echo', repeat: 2 * 1024 * 1024 }).catch((e: unknown) => e)) as RemoteError;
    expect(large).toMatchObject({ remoteName: 'MessageTooLargeError', remoteCode: 'ERR_MESSAGE_TOO_LARGE' });
    expect(large.remoteMessage).toMatch(/^The payload of "echo" is about/);
    expect(large.data).toMatchObject({ messageType: 'echo' });
  });

  it('[H636] a failed sendTo()\'s causes name the user\'s message type, never the relay\'s', async () => {
    const { primary, alice } = await relayPair();
    // Before (retest t61 L1): the cause RemoteError had messageType "$relay", which a logger serialising the chain shows.
    const chain = await primary.send(alice, 'failureChain', { relay: { target: 'carol', type: 'echo' } });
    expect(chain.map((level) => level.name)).toEqual(['NoWorkerAvailableError', 'RemoteError']);
    expect(chain[1]).toMatchObject({ code: 'ERR_REMOTE', messageType: 'echo' });
    expect(chain[1]!.message).toMatch(/^The primary answered a sendTo\(\) it relays with NoWorkerAvailableError: /);
    expect(JSON.stringify(chain)).not.toContain('$relay');
  });

  it('[H605] rejects with WorkerExitedError when the target dies mid-request, at once', async () => {
    const { primary, alice, bob } = await relayPair();
    // bob's handler announces itself as it starts. Not bob's `pending` in stats(): a heartbeat
    // $ping counts there too, and under load the kill could overtake the relay still on its way.
    const running = onceEvent<WorkerMessageEvent<ToPrimary>>(primary, 'workerMessage', 30_000, (event) => event.worker.id === bob.id && event.type === 'lifecycle' && event.payload.event === 'running slow');
    const pending = primary.send(alice, 'relay', { target: 'bob', type: 'slow', payload: { ms: 30_000, announce: true }, timeoutMs: 60_000 }).catch((e: RemoteError) => e);
    await running;
    const killedAt = Date.now();
    process.kill(bob.pid!, 'SIGKILL');
    const error = await pending;
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(error).toMatchObject({ remoteName: WorkerExitedError.name, remoteCode: 'ERR_WORKER_EXITED' });
    expect((error as RemoteError).remoteMessage).toContain('before it replied to "slow"');
    // [H605] Its cause says what the primary answered, in the caller's words; no internal type anywhere in the chain (newcomer t61:
    // `Handler for "$relay" in the primary failed`, then an error about "$relayed").
    const chain = causesOf(error);
    expect(chain).toEqual([expect.stringMatching(/^RemoteError: The primary answered a sendTo\(\) it relays with WorkerExitedError: Worker \d+ \(pid \d+\) .*before it replied to "slow"/)]);
    expect(chain.join('\n')).not.toContain('$relay');
  });

  it('applies the timeout end to end: a relay is never held forever', async () => {
    const { primary, alice } = await relayPair();
    const error = await primary.send(alice, 'relay', { target: 'bob', type: 'hang', timeoutMs: 300 }).catch((e: RemoteError) => e);
    expect(error).toMatchObject({ remoteName: MessageTimeoutError.name });
    // The primary's forwarded request times out on its own, too: nothing stays pending.
    await until(() => primary.stats().every((row) => row.pending === 0), 30_000, 'no pending relay');
  });

  it('[H425] a relayed timeout states the timeoutMs the sender gave, not the shorter one the primary waited', async () => {
    const { primary, alice } = await relayPair();
    // 2000 ms: the primary's forwarded request ends 100 ms earlier, its answer well before the sender's own timer.
    const error = await primary.send(alice, 'relay', { target: 'bob', type: 'hang', timeoutMs: 2_000 }).catch((e: RemoteError) => e);
    expect(error).toMatchObject({ remoteName: MessageTimeoutError.name });
    expect((error as RemoteError).remoteMessage).toContain('did not reply to "hang" within 2000 ms');
    await until(() => primary.stats().every((row) => row.pending === 0), 30_000, 'no pending relay');
  });

  it('[H435] a relayed sendTo() that times out rejects at the timeoutMs the caller set, not before, still a MessageTimeoutError', async () => {
    const { primary, alice } = await relayPair();
    // The primary gives up on bob 250 ms before 5000 ms (its most), so that its answer comes first;
    // before, alice's caller heard it then, a busy primary's delay short of those 250 ms.
    const outcome = await primary.send(alice, 'relayTimed', { target: 'bob', type: 'hang', timeoutMs: 5_000 }, { timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ name: MessageTimeoutError.name, code: 'ERR_MESSAGE_TIMEOUT' });
    expect(outcome.message).toContain('did not reply to "hang" within 5000 ms');
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(5_000);
    // A generous bound for a loaded machine: not a second timeout's worth late.
    expect(outcome.elapsedMs).toBeLessThan(5_000 + 10_000);
    await until(() => primary.stats().every((row) => row.pending === 0), 30_000, 'no pending relay');
  });

  it('[H426] an unknown target: the advice is what a worker can do, not primary.workers it cannot reach', async () => {
    const { primary, alice } = await relayPair();
    const byName = (await primary.send(alice, 'relay', { target: 'carol', type: 'echo', payload: 1 }).catch((e: RemoteError) => e)) as RemoteError;
    expect(byName.remoteMessage).not.toContain('primary.workers');
    expect(byName.remoteMessage).toContain("or no worker has that name: names are given by the primary's fork({ name })");
    expect(byName.remoteMessage).toContain("ask the primary with send() to a handler of the primary's");
    const byId = (await primary.send(alice, 'relay', { target: 99_999, type: 'echo', payload: 1 }).catch((e: RemoteError) => e)) as RemoteError;
    expect(byId.remoteMessage).toContain('or no worker has that id: ');
    expect(byId.remoteMessage).not.toContain('primary.workers');
  });

  it('[H543] a relayed reply that cannot be sent is named by its type, not by the relay\'s internal one', async () => {
    const { primary, alice } = await relayPair();
    const error = await primary.send(alice, 'relay', { target: 'bob', type: 'unsendableReply' }).catch((e: RemoteError) => e);
    // Before: `Cannot send the reply to "$relayed", field reply.f: ...` (hostile tester t57).
    expect((error as RemoteError).remoteMessage).toContain('the reply to "unsendableReply", field reply.f');
    expect((error as RemoteError).remoteMessage).not.toContain('$relayed');
  });

  it('revives the clusterkit error classes in the sending worker', async () => {
    // The fixture's relay handler rethrows what sendTo() rejected with; its name proves the class.
    const { primary, alice } = await relayPair();
    const error = await primary.send(alice, 'relay', { target: 999_999, type: 'echo' }).catch((e: RemoteError) => e);
    expect((error as RemoteError).remoteName).toBe(NoWorkerAvailableError.name);
  });
});
