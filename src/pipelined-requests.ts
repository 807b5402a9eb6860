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

/** Requests a connection may have unanswered at once; one more closes the connection. */
export const kMaxPipelinedRequests = 8;

const outstanding = new WeakMap<Socket, number>();

/**
 * Counts `request` against its connection: returns false, having destroyed the connection,
 * when it has more than `kMaxPipelinedRequests` unanswered (the caller must then not answer).
 */
export function admitPipelined(request: IncomingMessage, response: ServerResponse): boolean {
  const socket = request.socket;
  const count = (outstanding.get(socket) ?? 0) + 1;
  if (count > kMaxPipelinedRequests) {
    socket.destroy();
    return false;
  }
  outstanding.set(socket, count);
  response.once('close', () => outstanding.set(socket, (outstanding.get(socket) ?? 1) - 1));
  return true;
}
