/**
 * What a worker writes on its IPC file descriptor below `process.send()` (a child process that
 * inherited it, a native module) is untrusted input the primary's own Node parses: bytes that
 * are not a message used to crash the primary with an uncaught SyntaxError, and a message that
 * never ends ran it out of memory. The channel guard (src/primary/pool/channel-guard.ts) kills
 * the worker instead, says why, and the restart policy replaces it.
 */
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { ChannelCorruptError, type Serialization } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

const kMiB = 1024 * 1024;

async function corruptChannel(serialization: Serialization, mode: 'garbage' | 'deep' | 'endless' | 'nodeMessage' | 'errorCycle' | 'manyServers' | 'bulkUnannounced' | 'bulkHuge' | 'bulkBadRecord' | 'bulkNeverComes' | 'bulkStray', maxMessageBytes?: number, bytes?: number, count?: number) {
  const primary = testPrimary({ serialization, ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }) });
  const { log, stop } = recordClusterEvents(primary);
  const [worker] = await primary.start();
  const errors: Error[] = [];
  primary.on('workerError', ({ error }) => errors.push(error));
  const error = onceEvent(primary, 'workerError');
  const exit = onceEvent(primary, 'workerExit');
  const replaced = onceEvent(primary, 'workerReady');
  await expect(primary.send(worker!, 'writeRawSoon', { mode, bytes, count })).resolves.toBe('writing');
  const reported = (await error).error;
  await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', expected: false });
  const { worker: replacement } = await replaced;
  // The primary lives on and the new worker's channel is read as usual.
  await expect(primary.send(replacement, 'echo', { after: mode })).resolves.toEqual({ after: mode });
  expect(reported).toBeInstanceOf(ChannelCorruptError);
  // `clusterkit status` and the dashboard's timeline say why the worker's exit was a SIGKILL.
  const recorded = log.read().events.find((event) => event.type === 'workerChannelCorrupt');
  stop();
  expect(recorded).toMatchObject({ workerId: worker!.id, error: (reported as Error).message });
  return { error: reported as ChannelCorruptError, worker: worker!, errors };
}

describe('a worker that writes below process.send()', () => {
  it.each(['garbage', 'deep'] as const)('[H54] bytes that are not a JSON message (%s): the worker is killed and replaced, the primary lives on', async (mode) => {
    const { error, worker } = await corruptChannel('json', mode);
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'not-a-message', peer: `worker ${worker.id} (pid ${worker.pid})` });
    expect((error.cause as Error).name).toBe('SyntaxError'); // from Node's realm: not the test realm's SyntaxError
    expect(error.message).toMatch(/not an IPC message \(SyntaxError: .*\)\. Something in the worker writes to the channel's file descriptor directly/);
    expect(error.message).toMatch(/killed \(SIGKILL\)\.$/);
  });

  // Hostile t83 #2: a message V8 frames whole and cannot read back (an Error whose cause leads back
  // to it, sent by process.send()) was blamed on bytes written to the channel's descriptor directly.
  it('[H725] with advanced, a message V8 cannot read back is told as one, not as bytes written below process.send(); the primary lives on', async () => {
    const { error } = await corruptChannel('advanced', 'errorCycle');
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'not-a-message' });
    expect((error.cause as Error).message).toBe('Unable to deserialize cloned data.');
    expect(error.message).toMatch(/ sent an IPC message that V8's deserializer cannot read \(Error: Unable to deserialize cloned data\.\)\. With serialization: "advanced", V8 writes some values it cannot read back, such as an Error whose cause leads back to it, a host object \(a Blob, a MessagePort\) whose fields do, or a WebAssembly\.Module; clusterkit refuses those with NotSerializableError before sending, so it came from a process\.send\(\) in the worker's code/);
    expect(error.message).not.toMatch(/not an IPC message|not through process\.send\(\)/);
    expect(error.message).toMatch(/killed \(SIGKILL\) rather than left waiting for an answer\.$/);
  });

  it('[H54] the parser error quoted in the message is escaped: no control byte from the worker reaches a log line', async () => {
    const { error } = await corruptChannel('json', 'garbage');
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('[H55] a JSON message that never ends is cut past maxMessageBytes (+ 64 KiB of frame): the primary does not buffer it until it runs out of memory', async () => {
    const { error } = await corruptChannel('json', 'endless', kMiB, 16 * kMiB);
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'too-large', limitBytes: kMiB + 64 * 1024 });
    expect(error.receivedBytes).toBeGreaterThan(kMiB + 64 * 1024);
    expect(error.receivedBytes).toBeLessThan(4 * kMiB); // cut as it passed the limit, not at the end
    expect(error.message).toMatch(/sent an IPC message of more than 1\.1 MiB \(.* had arrived, and more was coming\)/);
  });

  it('[H55] with advanced serialization, bytes that announce a huge message are refused at once, not waited for', async () => {
    const { error } = await corruptChannel('advanced', 'garbage');
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'too-large' });
    expect(error.announcedBytes).toBeGreaterThan(64 * kMiB); // "{not" read as a big-endian length, over the default 16 MiB
    expect(error.message).toMatch(/its header announced/);
  });

  it('[H55] with advanced serialization, a message that never ends is cut past maxMessageBytes', async () => {
    const { error } = await corruptChannel('advanced', 'endless', kMiB, 16 * kMiB);
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'too-large' });
  });

  it('[H56] a forged message of node:cluster\'s own protocol that Node\'s handler throws on: the worker is killed, the primary lives on', async () => {
    const { error } = await corruptChannel('json', 'nodeMessage');
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'bad-node-message' });
    expect((error.cause as Error & { code?: string }).code).toBe('ERR_SOCKET_BAD_PORT');
    expect(error.message).toMatch(/sent a message of Node's own cluster protocol \("NODE_CLUSTER queryServer"\) that Node's handler in the primary failed on \(RangeError: /);
  });

  it('[H59] a worker asking the primary to listen on more than 256 addresses at once is killed before the primary runs out of file descriptors', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const { error, errors } = await corruptChannel('json', 'manyServers', undefined, undefined, 300);
    // Not followed by an EPIPE line per answer node:cluster still sends it (the retest saw 200 to 380).
    expect(errors.map((each) => each.name)).toEqual(['ChannelCorruptError']);
    expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'too-many-servers' });
    expect(error.message).toMatch(/asked the primary to listen on 257 addresses at once \(node:cluster's "queryServer", one per listen\(\) in a worker\), more than the 256/);
    // The 256 sockets it had were closed with its exit (node:cluster drops a dead worker's handles).
    expect(openFiles()).toBeLessThan(before + 64);
  });

  it('[H59] failed listens hold nothing and are not counted: a worker retrying a port taken elsewhere 300 times lives on', async () => {
    // The port is held by this process, the primary: every listen the worker asks for fails with EADDRINUSE.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const primary = testPrimary();
      const [worker] = await primary.start();
      const errors: unknown[] = [];
      primary.on('workerError', ({ error }) => errors.push(error));
      const port = (taken.address() as net.AddressInfo).port;
      await expect(primary.send(worker!, 'retryListen', { port, count: 300 }, { timeoutMs: 60_000 })).resolves.toBe(300);
      await expect(primary.send(worker!, 'echo', 'alive')).resolves.toBe('alive');
      expect(errors).toEqual([]);
    } finally {
      taken.close();
    }
  });

  describe('[H82] the bulk pipe (the second pipe that carries long strings)', () => {
    it('[H82] without a bulk pipe (advanced serialization), a frame naming bulk bytes is dropped as malformed, never held', async () => {
      const primary = testPrimary({ serialization: 'advanced' });
      const [worker] = await primary.start();
      const errors: Error[] = [];
      primary.on('workerError', ({ error }) => errors.push(error));
      await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkNeverComes', count: 10_000, bytes: 1024 })).resolves.toBe('writing');
      // What came after it was delivered at once: the worker answers, nothing was held.
      await expect(primary.send(worker!, 'echo', 'after')).resolves.toBe('after');
      expect(worker!.state).toBe('ready');
      expect(errors.filter((error) => error instanceof ChannelCorruptError)).toEqual([]);
    });

    it('[H82][H86][H691] a worker whose messages wait for bytes that never come is not heard, however much else it sends: the heartbeat replaces it, naming its bulk pipe and the forged message that can cause it', async () => {
      const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_500 } });
      const [worker] = await primary.start();
      const error = onceEvent(primary, 'workerError', 30_000);
      const replaced = onceEvent(primary, 'workerReady', 30_000);
      await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkStuckChatty' })).resolves.toBe('writing');
      // Its chatter shows its event loop turning: its bytes are lost, not a blocked loop's.
      const { error: lost } = (await error) as { error: ChannelCorruptError };
      expect(lost).toMatchObject({ reason: 'bulk-lost' });
      // Its one forged frame (process.send() of clusterkit's format) is among the causes named.
      // Before (hostile t71): only a descriptor closed and reopened, which nothing here touched.
      expect(lost.message).toContain('or it sent through process.send() a message in clusterkit\'s own format (an object with "__ck") announcing long strings that nothing wrote');
      const { worker: replacement } = await replaced;
      await expect(primary.send(replacement, 'echo', 'fresh')).resolves.toBe('fresh');
    });

    it('[H718] nothing a worker killed for its bulk pipe sent is acted on after the kill: a crash notice held behind the stuck frame is not its death\'s cause', async () => {
      // Hostile t79: the held frames were delivered after the kill, and `workerCrash.error` named the forged FakeError.
      const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 20_000 }, restart: { backoff: { initialMs: 60_000 } } });
      const [worker] = await primary.start();
      const error = onceEvent(primary, 'workerError', 30_000);
      const crash = onceEvent(primary, 'workerCrash', 30_000);
      await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkForgedCrash' })).resolves.toBe('writing');
      await expect(error).resolves.toMatchObject({ error: { reason: 'bulk-lost' } });
      const crashed = await crash;
      expect(crashed).toMatchObject({ signal: 'SIGKILL' });
      expect(crashed.error).toBeUndefined();
    });

    it.each(['bulkClose', 'bulkShutdown'] as const)('[H85] a worker whose bulk pipe broke (%s) exits (1) at its next long string, saying why, and is replaced: not left wedged for the heartbeat', async (mode) => {
      const primary = testPrimary({ heartbeat: false });
      const [worker] = await primary.start();
      const exit = onceEvent(primary, 'workerExit', 30_000);
      const replaced = onceEvent(primary, 'workerReady', 30_000);
      await expect(primary.send(worker!, 'writeRawSoon', { mode })).resolves.toBe('writing');
      const exited = await exit;
      // It exits (1) on its own. Node may abort it first (SIGABRT): libuv finds the descriptor it
      // watched closed under it, which only user code can have done; on a loaded machine the
      // primary's kill of a worker whose channel closed may come first too (SIGKILL). Either way it
      // is gone at once, with the heartbeat off: not wedged.
      expect(exited.code === 1 || exited.signal === 'SIGKILL' || exited.signal === 'SIGABRT' ? 'gone' : JSON.stringify({ code: exited.code, signal: exited.signal })).toBe('gone');
      const { worker: replacement } = await replaced;
      await expect(primary.send(replacement, 'echo', 'z'.repeat(20_000))).resolves.toBe('z'.repeat(20_000));
    });

    it('[H85] bytes something else wrote to the bulk pipe (a child process given its descriptor): the worker is killed, no string made of them reaches a handler', async () => {
      const { error, errors } = await corruptChannel('json', 'bulkStray');
      expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'bulk-corrupt' });
      expect(error.message).toMatch(/bytes on the bulk pipe were out of place \(a frame's check bytes did not match\)\)\. clusterkit never does this itself: something in the worker wrote to the pipe's file descriptor \(directly, or a child process given it\)/);
      expect(errors.filter((each) => !(each instanceof ChannelCorruptError))).toEqual([]);
    });

    // [H691] Each names the cause where it shows: bytes clusterkit never writes, a frame it never
    // sends (forged through process.send(); before, hostile t71, blamed on the pipe), or either.
    const kPipe = "clusterkit never writes such bytes: something in the worker writes to the pipe's file descriptor directly";
    const kFrame = 'clusterkit never sends such a message: code in the worker sent one in clusterkit\'s own format (an object with "__ck") through process.send()';
    const kEither = "clusterkit never does this itself: something in the worker wrote to the pipe's file descriptor (directly, or a child process given it), or sent through process.send() a message in clusterkit's own format";
    it.each([
      ['bytes no message announced', 'bulkUnannounced' as const, 32 * kMiB, undefined, /bytes arrived on the bulk pipe that no message announced/, kPipe],
      ['a frame announcing a terabyte', 'bulkHuge' as const, undefined, undefined, /a frame announced 1099511627776 bytes of bulk strings, more than/, kFrame],
      ['a record that does not decode', 'bulkBadRecord' as const, undefined, undefined, /a placeholder "\\u00007" names no string/, kEither],
      ['megabytes of messages waiting for bytes that never come', 'bulkNeverComes' as const, 64 * 1024, 400, /\d+ bytes of messages waited for bulk bytes that did not come/, kEither],
    ])('[H691] %s: the worker is killed and replaced, the primary lives on, and the message names the likely cause', async (_, mode, bytes, count, detail, cause) => {
      const { error, worker } = await corruptChannel('json', mode, kMiB, bytes, count);
      // Bytes announced that never come while the worker keeps sending: two true accounts race.
      // The held bytes pass their bound (bulk-corrupt), or, on a loaded machine where its 64 KiB
      // frames trickle in, the heartbeat sees it talk with bytes owed first (bulk-lost, H86).
      if (mode === 'bulkNeverComes' && error.reason === 'bulk-lost') {
        expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', peer: `worker ${worker.id} (pid ${worker.pid})` });
        expect(error.message).toMatch(/kept sending messages, but the long strings they carry never came on its bulk pipe/);
        // Its advice (leave the descriptor alone, or CLUSTERKIT_BULK=0) follows the kill.
        expect(error.message).toMatch(/killed \(SIGKILL\)\. Leave the pipe's descriptor alone/);
      } else {
        expect(error).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'bulk-corrupt', peer: `worker ${worker.id} (pid ${worker.pid})` });
        expect(error.message).toMatch(detail);
        expect(error.message).toContain(cause);
        expect(error.message).toMatch(/broke the protocol of its bulk pipe, the second pipe clusterkit uses for long strings/);
        expect(error.message).toMatch(/killed \(SIGKILL\)\.$/);
      }
    });
  });
});
