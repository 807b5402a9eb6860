/**
 * `clusterkit reload`'s progress line says how each old worker ended, as its `workerExit` event
 * says (H446): a chaos tester's reload printed `worker 3 stopped (3/3)` for a worker the primary
 * had SIGKILLed, while the cluster's log said killed. Pure formatting of the event log's events:
 * the real reload's lines are checked in test/cli/reload-progress.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterEvent } from '../../src/control/control-protocol.js';
import { ReloadProgressLines } from '../../src/cli/reload-progress.js';

let seq = 0;
const event = (fields: Omit<ClusterEvent, 'seq' | 'at'>): ClusterEvent => ({ seq: ++seq, at: Date.now(), ...fields });

function replaced(exit: Partial<ClusterEvent>): string[] {
  const progress = new ReloadProgressLines('flags');
  return progress.lines([
    event({ type: 'reload', workers: 1 }),
    event({ type: 'workerReady', slot: 0, workerId: 9 }),
    event({ type: 'workerExit', slot: 0, workerId: 3, expected: true, code: null, signal: null, ...exit }),
  ]);
}

describe('reload progress lines', () => {
  it('[H446] an old worker the primary killed is said killed, not stopped; one that stopped as asked is said stopped', () => {
    expect(replaced({ signal: 'SIGKILL', killedByPrimary: true })).toEqual(['slot 0: worker 9 ready, worker 3 killed by the primary (SIGKILL: it had not stopped in time) (1/1)']);
    expect(replaced({ code: 0 })).toEqual(['slot 0: worker 9 ready, worker 3 stopped (1/1)']);
    expect(replaced({ code: 0, stopUnfinished: true })).toEqual(['slot 0: worker 9 ready, worker 3 exited before its stop finished (1/1)']);
    expect(replaced({ code: 1 })).toEqual(['slot 0: worker 9 ready, worker 3 stopped with exit code 1 (1/1)']);
    expect(replaced({ signal: 'SIGTERM' })).toEqual(['slot 0: worker 9 ready, worker 3 ended by SIGTERM (1/1)']);
  });
});
