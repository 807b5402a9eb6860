// Two apps, as PM2 users write an ecosystem file. From this directory:
//   npx clusterkit run               # both apps, each in its own primary; Ctrl-C stops both
//   npx clusterkit run web -w 4      # one app; flags override the file
//   npx clusterkit logs jobs -f      # from another terminal
import { defineConfig } from 'clusterkit';

export default defineConfig({
  apps: [
    {
      name: 'web',
      script: '../demo/server.js',
      workers: 2,
      env: { PORT: process.env.PORT ?? '3000' },
      shutdownTimeout: '30s',
    },
    {
      name: 'jobs',
      script: './jobs.js',
      workers: 1,
      env: { JOB_INTERVAL_MS: '1000' },
      maxMemory: '256M',
    },
  ],
});
