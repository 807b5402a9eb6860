/**
 * Secrets inside a value `show` prints, wherever they stand in it (H252): a retester found
 * `--db postgres://u:pw@h/db?password=hunter2&sslmode=require`, `https://x/?token=abc`,
 * `-H 'Authorization: Bearer X'` and `--header 'X-Api-Key: Y'` printed in full. Hidden, the rest
 * kept readable (`sslmode=require`, the user, the host, the header's name):
 * - a URL's password (`postgres://admin:<hidden>@db`), up to the authority's last `@`;
 * - a header line's value when its name looks secret (`Authorization`, `Proxy-Authorization`,
 *   `Cookie`, `Set-Cookie`, `X-Api-Key`, `X-Auth-Token`, `X-Client-Secret`), one line of several
 *   too, or one quoted in a command (`curl -H 'Cookie: sid=1'`);
 * - a `Bearer` credential, wherever it is;
 * - a `name=value` pair whose name looks secret, after a URL's `?`, `&` or `#`, or in a list of
 *   pairs (`host=h password=p`, `Server=h;Password=p`), up to the next `&`, `;` or white space
 *   (a quoted value up to its quote);
 * - a JSON string member whose name looks secret (`{"password":"<hidden>"}`).
 * Which names look secret: secret-name.ts, the rule of the flags' names (H244).
 */
import { isSecretName, kHiddenValue } from './secret-name.js';

/** `scheme://user:password@`: the user kept, the password hidden up to the authority's last `@` (an unescaped `@` in it too). */
const kUrlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@?#]*:)[^/\s?#]*@/gi;

/** `Name: value`, a line of its own (curl's `-H`, a raw request's lines); the value is what follows the colon's spaces. */
const kHeaderLine = /^([ \t]*([A-Za-z][\w-]*)[ \t]*:[ \t]*)(\S.*)$/gm;

/** The same header quoted inside a longer text: `curl -H 'X-Auth-Token: t' https://x`, up to its closing quote. */
const kQuotedHeader = /(["'])([ \t]*([A-Za-z][\w-]*)[ \t]*:[ \t]*)([^"'\r\n]+)\1/g;

/** RFC 6750's `Bearer <token>` (capitalized, as sent: "a bearer token" is prose), the token's characters and `=` padding. */
const kBearer = /\b(Bearer[ \t]+)[\w.~+/-]+=*/g;

/** A JSON string member: `"name": "value"`, escapes inside the value included. */
const kJsonMember = /("([A-Za-z_][\w.-]*)"[ \t]*:[ \t]*)"(?:[^"\\]|\\.)*"/g;

/** The name of a pair: at the start, or after a URL's `?`, `&`, `#`, a `;` or white space. */
const kPairName = /(?<=^|[?&#;\s])([A-Za-z_][\w.[\]-]*)=/g;

/** `text` with its secrets hidden (see above); the same string when it has none. */
export function redactText(text: string): string {
  const hidden = text
    .replace(kHeaderLine, (line, head: string, name: string) => (isSecretName(name) ? `${head}${kHiddenValue}` : line))
    .replace(kQuotedHeader, (quoted, quote: string, head: string, name: string) => (isSecretName(name) ? `${quote}${head}${kHiddenValue}${quote}` : quoted))
    .replace(kBearer, `$1${kHiddenValue}`)
    .replace(kJsonMember, (member, head: string, name: string) => (isSecretName(name) ? `${head}"${kHiddenValue}"` : member))
    .replace(kUrlPassword, `$1${kHiddenValue}@`);
  return redactPairs(hidden);
}

function redactPairs(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(kPairName)) {
    // A pair inside a value already hidden (`password='a b=c'`) is part of that value.
    if (match.index < from || !isSecretName(match[1]!)) continue;
    const start = match.index + match[0].length;
    const end = valueEnd(text, start);
    if (end === start || text.slice(start, end) === kHiddenValue) continue;
    out += `${text.slice(from, start)}${kHiddenValue}`;
    from = end;
  }
  return from === 0 ? text : `${out}${text.slice(from)}`;
}

/**
 * Where a pair's value ends: a quoted one at its closing quote (kept), any other at the next
 * `&`, `;` or white space. A quote that closes the text around the pair (`"https://x?token=abc"`,
 * as a config's value is quoted) is not the value's.
 */
function valueEnd(text: string, start: number): number {
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, start + 1);
    return close === -1 ? text.length : close + 1;
  }
  const stop = text.slice(start).search(/[&;\s]/);
  const end = stop === -1 ? text.length : start + stop;
  const isClosingQuote = end > start && (text[end - 1] === '"' || text[end - 1] === "'") && text.lastIndexOf(text[end - 1]!, start) !== -1;
  return isClosingQuote ? end - 1 : end;
}
