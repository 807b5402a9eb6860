/**
 * autocannon in its own process (the load must not share a CPU queue with the primary it
 * measures). Prints one JSON line with the result.
 *
 *   node --import tsx bench/load/autocannon-run.ts <url> <connections> <durationSeconds>
 */
import autocannon from 'autocannon';

const [url, connections = '50', duration = '10'] = process.argv.slice(2);
const result = await autocannon({ url: url!, connections: Number(connections), duration: Number(duration) });
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
  }),
);
