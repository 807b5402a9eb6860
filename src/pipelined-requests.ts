/**
 * A bound on pipelined HTTP requests per connection, for our own small servers (the health
 * endpoint, the dashboard).
 *
 * Node's HTTP server stops reading a connection only once the answers it has already written
 * back up (`outgoingData` over the socket's high-water mark). An answer that is computed
 * asynchronously (a `/metrics` scrape asks every worker) is not written yet when the next
 * pipelined request is parsed, so a client that writes thousands of requests in one go and
 * never reads started thousands of collections, and then held every answer in the primary's
 * memory (a hostile tester took a primary to 3.9 GB with 120 connections). Probes, scrapers and
 * browsers send one request at a time per connection, so a few outstanding is plenty.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Requests a connection may have unanswered at once; one more ends the connection once they are answered. */
export const kMaxPipelinedRequests = 8;

/**
 * Requests parsed past the bound before the connection stopped being read (the rest of the
 * chunk it came in): past this many, the client is hostile and the connection is destroyed at once.
 */
const kMaxIgnoredRequests = 1_024;

interface Tally {
  /** Admitted requests not answered yet. */
  outstanding: number;
  /** Requests past the bound: never answered (0 while the bound was never passed). */
  ignored: number;
}

const tallies = new WeakMap<Socket, Tally>();

/**
 * Counts `request` against its connection. Past `kMaxPipelinedRequests` unanswered, returns
 * false (the caller must then not answer it): the connection is no longer read, the requests
 * admitted before are answered, and it ends then (H525: before, it was destroyed at once, and a
 * ninth pipelined `GET /healthz` lost the eight answers before it).
 */
export function admitPipelined(request: IncomingMessage, response: ServerResponse): boolean {
  const socket = request.socket;
  let tally = tallies.get(socket);
  if (tally === undefined) {
    tally = { outstanding: 0, ignored: 0 };
    tallies.set(socket, tally);
  }
  if (tally.outstanding >= kMaxPipelinedRequests || tally.ignored > 0) {
    tally.ignored++;
    // Node parses the rest of the chunk at hand whatever is paused: those requests come here too,
    // and each holds a response object until the end, so their number is bounded.
    if (tally.ignored > kMaxIgnoredRequests) socket.destroy();
    else if (tally.ignored === 1) socket.pause();
    if (tally.outstanding === 0) socket.end();
    return false;
  }
  tally.outstanding++;
  const counted = tally;
  response.once('close', () => {
    counted.outstanding--;
    // The last answer admitted is written: its bytes go before the FIN.
    if (counted.ignored > 0 && counted.outstanding === 0) socket.end();
  });
  return true;
}
