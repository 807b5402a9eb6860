// Compile-only checks for what the dashboard added to the public API (run by `tsc --noEmit`).
import { ClusterPrimary, type WorkerHealth, type WorkerStats } from '../../src/index.js';

const primary = new ClusterPrimary({ serviceName: 'api', workerCount: 2 });
// @ts-expect-error a service name is a string
new ClusterPrimary({ serviceName: 42 });

primary.on('scale', ({ from, to }) => {
  const total: number = from + to;
  void total;
});
// @ts-expect-error the scale event has no `count`
primary.on('scale', ({ count }) => void count);

const row: WorkerStats = primary.stats()[0]!;
const cpu: number | undefined = row.cpuPercent;
const dropped: number = row.protocolErrors;
// How fresh the heartbeat figures are (a silent worker's are of its last answer).
const silentMs: number | undefined = row.silentMs;
const healthAgeMs: number | undefined = row.healthAgeMs;
const isSilent: boolean = row.isSilent;
void [silentMs, healthAgeMs, isSilent];
const health: WorkerHealth | undefined = primary.workers[0]?.health;
const cpuFromHealth: number | undefined = health?.cpuPercent;
void [cpu, dropped, cpuFromHealth];
