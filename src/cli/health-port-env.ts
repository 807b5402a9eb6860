/**
 * Set by `clusterkit run --health-port <port>` in the workers' environment for worker-main
 * (which removes it before the script runs), so a script refused that port is told it is the
 * primary's health endpoint's (listen-error.ts `nameHealthPortClash`, H110).
 */
export const kHealthPortEnv = 'CLUSTERKIT_HEALTH_PORT';
