/** The RSS the primary reads of a worker itself (H382), not the worker's word. */
import { describe, expect, it } from '@jest/globals';
import { isRssMeasured, measureRss, parseVmRss } from '../../src/primary/pool/measured-rss.js';

describe('measured RSS', () => {
  it('[H382] reads VmRSS in kB, whatever the page size; none for a process without memory (a zombie)', () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  458123 kB\nRssAnon:\t 1 kB\n')).toBe(458_123 * 1024);
    expect(parseVmRss('Name:\tnode\nState:\tZ (zombie)\n')).toBeUndefined();
  });

  it('[H382] on Linux, the figure process.memoryUsage() gives the process itself; elsewhere nothing is read', async () => {
    const measuring = measureRss(process.pid);
    if (!isRssMeasured) {
      expect(measuring).toBeUndefined();
      return;
    }
    const measured = await measuring;
    const own = process.memoryUsage.rss();
    expect(measured).toBeGreaterThan(own * 0.8);
    expect(measured).toBeLessThan(own * 1.2);
    // A process that is gone: the caller keeps the worker's figure.
    await expect(measureRss(2 ** 30)).resolves.toBeUndefined();
  });
});
