import { describe, expect, it } from '@jest/globals';
import { Channel, type IpcPort } from '../../src/messaging/channel.js';

/** A port that records each IPC message (the records of each frame) and completes writes on the next turn. */
function recordingPort(): IpcPort & { frames: unknown[][] } {
  return {
    connected: true,
    frames: [],
    send(message, callback) {
      this.frames.push((message as { m: unknown[] }).m);
      setImmediate(() => callback(null));
      return true;
    },
  };
}

const handlers = { onFailure: () => {}, onWriteError: () => {} };

describe('Channel.writeNow (a broadcast request, written at once)', () => {
  it('writes a lone record at once, as a frame of its own, and nothing more at the end of the tick', async () => {
    const port = recordingPort();
    const channel = new Channel(port, handlers);
    channel.writeNow(1, 7, 'echo', 'x', 3);
    expect(port.frames).toEqual([[1, 7, 'echo', 'x']]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(port.frames).toHaveLength(1);
    expect(channel.queuedBytes).toBe(0);
  });

  it('keeps the order: records queued before it go out first, in the same flush', () => {
    const port = recordingPort();
    const channel = new Channel(port, handlers);
    channel.write(2, 1, 'first', 'a', 3);
    channel.writeNow(1, 2, 'second', 'b', 3);
    expect(port.frames).toEqual([[2, 1, 'first', 'a', 1, 2, 'second', 'b']]);
  });

  it('queues on a held channel, written in order once it opens', () => {
    const port = recordingPort();
    const channel = new Channel(port, handlers, { held: true });
    channel.writeNow(1, 3, 'held', 'c', 3);
    expect(port.frames).toEqual([]);
    channel.open();
    return new Promise<void>((resolve) =>
      process.nextTick(() => {
        expect(port.frames).toEqual([[1, 3, 'held', 'c']]);
        resolve();
      }),
    );
  });
});
