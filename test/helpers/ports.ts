/**
 * A port nobody listens on right now, for tests whose workers must share a known port.
 *
 * Not one the kernel picks for `listen(0)`: those come from the ephemeral range (32768 to 60999
 * on Linux, 49152 and up on macOS), where every outgoing connection on the machine also takes
 * its local port. On a busy machine (a load generator beside the suite, parallel test files
 * connecting to their servers) one of them could take the port between this check and the
 * worker's own `listen()`, which then failed with EADDRINUSE. Ports below 32768 are never
 * handed out that way; each Jest worker draws from its own block of them, so two test files
 * running at once do not draw the same one either.
 */
import net from 'node:net';

const kFirstPort = 20_000;
const kBlockSize = 1_000;
const kBlocks = 12;

/** Ports this process handed out: never twice. */
const handedOut = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // No host: all interfaces, IPv4 and IPv6, so a port taken on any of them is skipped.
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? 1);
  const block = kFirstPort + ((Number.isSafeInteger(worker) && worker > 0 ? worker - 1 : 0) % kBlocks) * kBlockSize;
  for (let attempt = 0; attempt < kBlockSize; attempt++) {
    const port = block + Math.floor(Math.random() * kBlockSize);
    if (handedOut.has(port)) continue;
    if (await isFree(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`No free port in ${block} to ${block + kBlockSize - 1} after ${kBlockSize} tries.`);
}
