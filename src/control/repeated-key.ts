/** A key a JSON object gives twice: its name, and the line of its second place (1 for the first line). */
export interface RepeatedKey {
  readonly key: string;
  readonly line: number;
}

/**
 * The first key that an object of a JSON text gives twice, or undefined. `JSON.parse` keeps the
 * last of them without a word: `{"command":"status","command":"stop"}` stopped a cluster
 * (hostile t59), and a config's `"workers": 1, "workers": 2` ran two (retest t59). With
 * `topLevelOnly`, only the outer object's keys count (a control request's fields).
 * `json` must be valid JSON (parsed already); a linear scan, no second parse of the values.
 */
export function repeatedKey(json: string, { topLevelOnly = false }: { readonly topLevelOnly?: boolean } = {}): RepeatedKey | undefined {
  // One set of keys per open object; null for an open list.
  const open: Array<Set<string> | null> = [];
  let index = 0;
  while (index < json.length) {
    const char = json[index]!;
    if (char === '"') {
      const start = index++;
      while (json[index] !== '"') index += json[index] === '\\' ? 2 : 1;
      index++;
      const keys = open.at(-1);
      if (keys && (!topLevelOnly || open.length === 1)) {
        let next = index;
        while (next < json.length && ' \t\n\r'.includes(json[next]!)) next++;
        // A string followed by ':' in an object is a key; one followed by ',' is a list's item.
        if (json[next] === ':') {
          const key = JSON.parse(json.slice(start, index)) as string;
          if (keys.has(key)) return { key, line: json.slice(0, start).split('\n').length };
          keys.add(key);
        }
      }
      continue;
    }
    if (char === '{') open.push(new Set());
    else if (char === '[') open.push(null);
    else if (char === '}' || char === ']') open.pop();
    index++;
  }
  return undefined;
}
