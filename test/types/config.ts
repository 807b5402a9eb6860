/**
 * Compile-only checks of defineConfig: the editor catches a wrong key or value in a config file.
 */
import { defineConfig, type AppConfig, type ClusterKitConfig } from '../../src/index.js';

export const good: ClusterKitConfig = defineConfig({
  apps: [
    { name: 'api', script: './server.js', workers: 2, env: { PORT: '3000', DEBUG: true, RETRIES: 3 } },
    { script: './jobs.ts', workers: 'max', nodeArgs: ['--import=tsx'], args: ['--queue', 'mail'], cwd: './jobs', envFile: '.env' },
    { script: './w.js', dev: true, shutdownTimeout: '30s', readyTimeout: 5_000, maxMemory: '512M', logFormat: 'json' },
    { script: './w.js', watch: ['src', 'lib'], ignoreWatch: ['uploads', '*.sqlite'], watchDelay: '1s' },
    { script: './w.js', watch: true, maxMemory: 1024 },
    { script: './w.js', gradualDrain: '500ms' },
    { script: './w.js', gradualDrain: 0 },
    { script: './w.js', minReady: '5s' },
    { script: './w.js', minReady: 0 },
  ],
});

export const app: AppConfig = { script: './server.js' };

defineConfig({
  // @ts-expect-error a PM2 key: workers is the name here
  apps: [{ script: './server.js', instances: 4 }],
});

// @ts-expect-error script is required
defineConfig({ apps: [{ name: 'api' }] });

// @ts-expect-error a duration needs a unit clusterkit knows
defineConfig({ apps: [{ script: './server.js', shutdownTimeout: '10 seconds' }] });

// @ts-expect-error gradualDrain is a duration, not a switch (0 turns it off)
defineConfig({ apps: [{ script: './server.js', gradualDrain: false }] });

// @ts-expect-error minReady is a duration, not a switch (0 turns it off)
defineConfig({ apps: [{ script: './server.js', minReady: true }] });

// @ts-expect-error logFormat is line or json
defineConfig({ apps: [{ script: './server.js', logFormat: 'xml' }] });

// @ts-expect-error env values are strings, numbers or booleans
defineConfig({ apps: [{ script: './server.js', env: { PORT: { value: 1 } } }] });

// healthMinReady (H455): a number of ready workers for /readyz, beside healthPort.
defineConfig({ apps: [{ script: './server.js', healthPort: 9090, healthMinReady: 2 }] });
// @ts-expect-error a number of workers, not a duration
defineConfig({ apps: [{ script: './server.js', healthPort: 9090, healthMinReady: '2s' }] });
