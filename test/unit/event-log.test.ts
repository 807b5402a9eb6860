import { describe, expect, it } from '@jest/globals';
import { EventLog } from '../../src/control/event-log.js';

describe('EventLog', () => {
  it('numbers events from 1 and gives a reader only what came after its cursor', () => {
    const log = new EventLog(8);
    expect(log.read(0)).toEqual({ events: [], last: 0, missed: 0 });
    log.append({ type: 'workerFork', workerId: 1, at: 10 });
    log.append({ type: 'workerReady', workerId: 1, at: 20 });
    const first = log.read(0);
    expect(first).toEqual({
      events: [
        { seq: 1, at: 10, type: 'workerFork', workerId: 1 },
        { seq: 2, at: 20, type: 'workerReady', workerId: 1 },
      ],
      last: 2,
      missed: 0,
    });
    log.append({ type: 'reload', workers: 1, at: 30 });
    expect(log.read(first.last)).toEqual({ events: [{ seq: 3, at: 30, type: 'reload', workers: 1 }], last: 3, missed: 0 });
    expect(log.read(3)).toEqual({ events: [], last: 3, missed: 0 });
  });

  it('stays bounded: the oldest events are overwritten, and a slow reader is told how many it missed', () => {
    const log = new EventLog(4);
    for (let i = 1; i <= 10; i++) log.append({ type: 'workerFork', workerId: i });
    const page = log.read(0);
    expect(page.events.map((event) => event.seq)).toEqual([7, 8, 9, 10]);
    expect(page).toMatchObject({ last: 10, missed: 6 });
    expect(log.read(5)).toMatchObject({ missed: 1 });
    expect(log.read(6)).toMatchObject({ missed: 0 });
    expect(log.read(8).events.map((event) => event.seq)).toEqual([9, 10]);
  });

  it('reads from the start for a cursor from an earlier primary (beyond the newest event)', () => {
    const log = new EventLog(4);
    log.append({ type: 'scale', from: 2, to: 4 });
    expect(log.read(500)).toMatchObject({ events: [{ seq: 1, type: 'scale' }], last: 1, missed: 0 });
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new EventLog(0)).toThrow(RangeError);
  });
});
