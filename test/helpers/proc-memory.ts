/**
 * The memory of a process, read from /proc (Linux): tests that bound what a hostile input may
 * cost the primary compare its peak before and after.
 */
import { readFileSync } from 'node:fs';

/** Resident memory (`rss`) and its peak since the process started (`peak`, VmHWM), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const bytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: bytes('VmRSS'), peak: bytes('VmHWM') };
}
