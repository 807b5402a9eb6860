/** `1 worker`, `3 workers`, `0 workers`: a count and its noun, singular only for one; `many` for nouns not made plural by an s (`2 entries`). */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}
