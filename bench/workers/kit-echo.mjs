// clusterkit worker: the same behaviour as raw-echo.mjs through ClusterWorker.
import { ClusterWorker } from 'clusterkit/worker';

class EchoWorker extends ClusterWorker {
  #notified = 0;

  _onMessage_echo(payload) {
    return payload;
  }

  _onMessage_tick() {
    this.#notified++;
  }

  _onMessage_count() {
    return this.#notified;
  }
}

await new EchoWorker({ orphanWatchdog: process.env.BENCH_WATCHDOG !== '0' }).start();
