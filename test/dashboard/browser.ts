/**
 * Headless Chromium for the dashboard's browser test: the system's Chromium (Debian's
 * `chromium` package, which `.ci/run` installs when missing), driven by playwright-core. No
 * browser download: the flags keep Chromium off the network, so it starts the same on a
 * machine with no internet.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const kCandidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
// playwright adds --headless itself.
const kFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // A name that resolves to this machine, as a DNS-rebinding attacker's would.
  '--host-resolver-rules=MAP rebind.test 127.0.0.1',
];

/** A host name the browser resolves to 127.0.0.1 (see the resolver rule above). */
export const kReboundHost = 'rebind.test';

/** CHROMIUM_PATH, or the first system Chromium found; undefined when there is none. */
export function chromiumPath(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return given;
  return kCandidates.find((path) => existsSync(path));
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Starts Chromium; playwright gives it a fresh, temporary profile and removes it on close. */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({ executablePath, args: kFlags, timeout: 30_000 });
  return { browser, close: () => browser.close().catch(() => {}) };
}

/**
 * Starts the system's Chromium, or says why it cannot: the browser test is skipped, loudly,
 * only when Chromium is missing or does not start at all.
 */
export async function tryChromium(): Promise<LaunchedBrowser | string> {
  const path = chromiumPath();
  if (!path) return `no Chromium found (looked for ${kCandidates.join(', ')}); set CHROMIUM_PATH, or install Debian's "chromium" package as .ci/run does`;
  try {
    return await launchChromium(path);
  } catch (error) {
    return `Chromium at ${path} does not start: ${(error as Error).message.split('\n')[0]}`;
  }
}
