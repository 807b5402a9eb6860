/**
 * Compile-only checks, run by `tsc --noEmit` in `npm test`. Each `@ts-expect-error` line must
 * fail to compile: if it ever compiles, tsc reports the directive as unused.
 */
import { ClusterPrimary, ClusterWorker, type MessageContext, type WorkerHandle, type WorkerHandlers, type PrimaryHandlers } from '../../src/index.js';

interface ToWorker {
  greet: { payload: { name: string }; reply: string };
  ping: { payload: void; reply: number };
}
interface ToPrimary {
  taskDone: { payload: { id: number }; reply: void };
}

export class GoodWorker extends ClusterWorker<ToWorker, ToPrimary> {
  protected override async _init() {}
  protected override async _destroy() {}
  _onMessage_greet(payload: { name: string }) {
    return `hi ${payload.name}`;
  }
  async _onMessage_ping(_payload: void, context: MessageContext) {
    return context.type.length;
  }
  async run() {
    await this.start();
    const nothing: void = await this.send('taskDone', { id: 1 });
    // @ts-expect-error unknown message type
    await this.send('taskDon', { id: 1 });
    // @ts-expect-error wrong payload type
    await this.send('taskDone', { id: '1' });
    // @ts-expect-error missing payload
    await this.send('taskDone');
    this.notify('taskDone', { id: 2 });
    return nothing;
  }
}

class WrongPayloadWorker extends ClusterWorker<ToWorker, ToPrimary> {
  _onMessage_greet(payload: { name: number }) {
    return `hi ${payload.name}`;
  }
}
// @ts-expect-error a handler whose payload type does not match the map cannot be started
void new WrongPayloadWorker().start();

class WrongReplyWorker extends ClusterWorker<ToWorker, ToPrimary> {
  _onMessage_greet(payload: { name: string }) {
    return payload.name.length;
  }
}
// @ts-expect-error a handler whose reply type does not match the map cannot be started
void new WrongReplyWorker().start();

class ImplementingWorker extends ClusterWorker<ToWorker, ToPrimary> implements WorkerHandlers<ToWorker> {
  // @ts-expect-error with `implements`, the mismatch is reported at the method itself
  _onMessage_ping() {
    return 'not a number';
  }
}
void ImplementingWorker;

class GoodPrimary extends ClusterPrimary<ToWorker, ToPrimary> implements PrimaryHandlers<ToPrimary> {
  _onMessage_taskDone(payload: { id: number }, worker: WorkerHandle) {
    void payload.id;
    void worker.pid;
  }
}

class WrongPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
  _onMessage_taskDone(payload: { id: string }) {
    void payload;
  }
}
// @ts-expect-error the primary's handlers are checked the same way
void new WrongPrimary().start();

async function primarySide(primary: GoodPrimary) {
  await primary.start();
  const w = primary.roundRobin({ tag: 'io' });
  const reply: string = await primary.send(w, 'greet', { name: 'Ada' }, { timeoutMs: 1000 });
  const count: number = await primary.send(w, 'ping');
  // @ts-expect-error the reply of greet is a string
  const wrong: number = await primary.send(w, 'greet', { name: 'Ada' });
  // @ts-expect-error unknown message type
  await primary.send(w, 'greeet', { name: 'Ada' });
  // @ts-expect-error wrong payload type
  await primary.send(w, 'greet', { name: 42 });
  // @ts-expect-error unknown option
  await primary.send(w, 'greet', { name: 'Ada' }, { timeout: 5 });
  const results = await primary.broadcast('greet', { name: 'all' });
  for (const result of results) {
    if (result.status === 'fulfilled') {
      const value: string = result.value;
      void value;
    } else {
      const reason: Error = result.reason;
      void reason;
    }
  }
  primary.on('workerExit', ({ worker, code, signal, expected }) => {
    const id: number = worker.id;
    const exitCode: number | null = code;
    const bySignal: NodeJS.Signals | null = signal;
    const wasExpected: boolean = expected;
    void [id, exitCode, bySignal, wasExpected];
  });
  primary.on('workerMessage', (message) => {
    if (message.type === 'taskDone') {
      const id: number = message.payload.id;
      void id;
    }
  });
  // @ts-expect-error unknown event name
  primary.on('workerExplode', () => {});
  return [reply, count, wrong];
}
void primarySide;

// Untyped use (no message maps) accepts any type, payload and handler.
class UntypedPrimary extends ClusterPrimary {
  _onMessage_anything(payload: { x: number }) {
    return payload.x;
  }
}
async function untypedSide(primary: UntypedPrimary) {
  await primary.start();
  const anyReply: unknown = await primary.send(primary.roundRobin(), 'whatever', { a: 1 });
  return anyReply;
}
void untypedSide;
void new UntypedPrimary({ workerCount: 1 });
