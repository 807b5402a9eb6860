import { describe, expect, it } from '@jest/globals';
import { Channel, type IpcPort } from '../../src/messaging/channel.js';

/** A port whose writes complete on the next turn; `backedUp` makes send() report Node's queue as full. */
function port(backedUp: boolean): IpcPort & { completions: number } {
  return {
    connected: true,
    completions: 0,
    send(_message, callback) {
      setImmediate(() => {
        this.completions++;
        callback(null);
      });
      return !backedUp;
    },
  };
}

async function writeOne(channel: Channel, target: { completions: number }): Promise<void> {
  channel.write(0, 1, 0, 'payload', 7);
  await new Promise<void>((resolve) => {
    const check = () => (target.completions > 0 ? resolve() : setImmediate(check));
    check();
  });
}

const handlers = { onFailure: () => {}, onWriteError: () => {} };

describe('channel drain signal (what the heartbeat reads)', () => {
  it('records when a write completes while the queue is backed up: the peer is reading', async () => {
    const backedUp = port(true);
    const channel = new Channel(backedUp, handlers);
    const before = Date.now();
    await writeOne(channel, backedUp);
    expect(channel.lastDrainAt).toBeGreaterThanOrEqual(before);
  });

  it('ignores writes the operating system took at once: they say nothing about the peer', async () => {
    const free = port(false);
    const channel = new Channel(free, handlers);
    await writeOne(channel, free);
    expect(channel.lastDrainAt).toBe(0);
  });
});
