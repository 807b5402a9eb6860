/**
 * autocannon in its own process (the load must not share a CPU queue with the primary it
 * measures). Prints one JSON line with the result and, for each successful response, when it
 * completed (ms since the epoch, sub-millisecond) and its latency (ms), so the caller can take
 * percentiles over any window of the run (steady state, during a reload).
 *
 *   node --import tsx bench/load/autocannon-run.ts <url> <connections> <durationSeconds>
 */
import autocannon from 'autocannon';

const [url, connections = '50', duration = '10'] = process.argv.slice(2);
const end: number[] = [];
const latency: number[] = [];
// Without a callback, autocannon returns its event emitter made thenable (its types say Promise only).
const instance = autocannon({ url: url!, connections: Number(connections), duration: Number(duration), setupClient: forgetRequestsOfClosedConnections }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode < 200 || statusCode >= 300) return;
  end.push(Math.round((performance.timeOrigin + performance.now()) * 100) / 100);
  latency.push(Math.round(responseTimeMs * 100) / 100);
});
const result = await instance;

/**
 * autocannon 8 matches responses to requests by order, in one queue per client that it does
 * not clear when the server closes a keep-alive connection (a `Connection: close` response, as
 * a draining worker sends): the request it wrote to the closing connection stays in the queue,
 * never answered, and from then on every response of that client is timed from the request
 * before it. Each reconnection adds one more, so latencies after a reload came out 2x and more
 * for the rest of a run, for any server (a plain http.Server that sends `Connection: close`
 * for 300 ms showed p99 going from 11 ms to 145 ms until the end). A new connection starts
 * with nothing outstanding: forget what was written to the old one.
 */
function forgetRequestsOfClosedConnections(client: autocannon.Client): void {
  const internals = client as unknown as { _connect(): void; pipelinedRequests: { clear(): void } };
  const connect = internals._connect;
  internals._connect = function reconnect(this: typeof internals) {
    this.pipelinedRequests.clear();
    connect.call(this);
  };
}
console.log(
  JSON.stringify({
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    samples: { end, latency },
  }),
);
