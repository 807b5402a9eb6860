/**
 * The path of an HTTP request, read from its request target (RFC 9112 §3.2) without trusting
 * it. `new URL(request.url, base)` is the common way, and it is wrong twice: a malformed target
 * (`http://[`) throws, which a handler turns into a 500; and `//dashboard.js`, a valid path
 * whose first segment is empty, is read as a protocol-relative URL: host `dashboard.js`, path
 * `/`. Here the origin form (`/path?query`) is taken as it is, the absolute form
 * (`http://host/path`, what a client sends a proxy) is parsed and its authority returned so
 * the caller can check it as it checks `Host`, and anything else is malformed (400).
 */

export interface RequestTarget {
  /** The path, without query or fragment, not decoded: `/api/snapshot`, `//x`. */
  readonly path: string;
  /** The `host[:port]` of an absolute-form target; undefined for the origin form. */
  readonly authority?: string;
}

/** The target's path (and authority); undefined when it is malformed: answer 400. */
export function parseRequestTarget(target: string | undefined): RequestTarget | undefined {
  if (target === undefined || target === '') return undefined;
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return { path: end === -1 ? target : target.slice(0, end) };
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return url.host === '' ? undefined : { path: url.pathname, authority: url.host };
    } catch {
      return undefined;
    }
  }
  // The asterisk form (OPTIONS *), the authority form (CONNECT), anything else.
  return undefined;
}
