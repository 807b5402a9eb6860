/** `worker 3 (pid 42)` -> `Worker 3 (pid 42)`: a description that starts a sentence. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
