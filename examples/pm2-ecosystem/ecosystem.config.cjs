// A PM2 ecosystem file, as PM2 users have it: clusterkit runs it unchanged. Each PM2 key with a
// clusterkit equivalent is translated (instances, kill_timeout, wait_ready, env_production,
// cron_restart...); each without one (exec_mode: 'fork' below) gets a warning line saying what
// clusterkit does instead. From a project where clusterkit is installed:
//   npm install clusterkit
//   npx clusterkit run node_modules/clusterkit/examples/pm2-ecosystem/ecosystem.config.cjs --env production
// In this directory (of the package, or of the clusterkit repository), as with pm2 start:
//   npx clusterkit run ecosystem.config.cjs                    # both apps, each in its own primary
//   npx clusterkit run ecosystem.config.cjs --env production   # env_production over env
//   npx clusterkit run ecosystem.config.cjs api                # one app (pm2's --only api)
//   curl localhost:3000                                        # from another terminal
// Ctrl-C stops both apps gracefully.
module.exports = {
  apps: [
    {
      name: 'api',
      script: './server.js',
      args: '--greeting "hello there"',
      instances: 2, // 'max' or 0: one per CPU; -1: every CPU but one
      exec_mode: 'cluster',
      wait_ready: true, // server.js calls process.send('ready') once it can serve
      listen_timeout: 10000,
      kill_timeout: 5000,
      max_memory_restart: '300M',
      node_args: '--max-old-space-size=256',
      env: { PORT: process.env.PORT ?? 3000, APP_MODE: 'development' },
      env_production: { NODE_ENV: 'production', APP_MODE: 'production' },
    },
    {
      name: 'jobs',
      script: './jobs.js',
      exec_mode: 'fork', // one process under PM2; here one worker (no instances), and a warning
      cron_restart: '0 3 * * *', // a rolling reload every day at 03:00 (local time), with no downtime
      env: { JOB_INTERVAL_MS: 1000 },
    },
  ],
};
