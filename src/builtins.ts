/**
 * Node built-ins loaded on first use. A worker must become ready fast, and
 * `worker_threads`, `os`, `crypto`, `util`, `http` and `v8` each pull up to twenty internal modules
 * that Node compiles at load time (together more than clusterkit's own start-up cost); most
 * workers need them later or never. `process.getBuiltinModule` (Node 20.16+) loads them synchronously, without importing
 * `node:module` for `createRequire` (which itself loads source-map machinery).
 */
export const loadOs = (): typeof import('node:os') => process.getBuiltinModule('node:os');
export const loadWorkerThreads = (): typeof import('node:worker_threads') => process.getBuiltinModule('node:worker_threads');
export const loadCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
export const loadUtil = (): typeof import('node:util') => process.getBuiltinModule('node:util');
export const loadHttp = (): typeof import('node:http') => process.getBuiltinModule('node:http');
export const loadV8 = (): typeof import('node:v8') => process.getBuiltinModule('node:v8');
