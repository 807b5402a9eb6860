/**
 * The first key that a JSON object text gives twice at its top level, or undefined. `JSON.parse`
 * keeps the last of them without a word: `{"command":"status","command":"stop"}` stopped a
 * cluster (hostile t59), where every other field the protocol does not expect is refused.
 * `json` must be valid JSON (parsed already); a linear scan, no second parse of the values.
 */
export function repeatedTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let index = 0;
  while (index < json.length) {
    const char = json[index]!;
    if (char === '"') {
      const start = index++;
      while (json[index] !== '"') index += json[index] === '\\' ? 2 : 1;
      index++;
      if (depth === 1) {
        let next = index;
        while (next < json.length && ' \t\n\r'.includes(json[next]!)) next++;
        // A string followed by ':' at the top level is a key; one followed by ',' is a list's item.
        if (json[next] === ':') {
          const key = JSON.parse(json.slice(start, index)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      continue;
    }
    if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
    index++;
  }
  return undefined;
}
