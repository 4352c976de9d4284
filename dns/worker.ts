/**
 * Entry point of a cluster worker forked by `klab dns serve --workers N`. It loads only the DNS
 * modules (not the whole CLI), which keeps start-up fast and each worker's memory small.
 */
import type { DnsConfig } from './config.js';
import { WORKER_CONFIG_ENV, jsonLog, runWorker } from './run.js';

const raw = process.env[WORKER_CONFIG_ENV];
if (!raw) {
  jsonLog('error', `dns worker started without ${WORKER_CONFIG_ENV}; it is forked by klab dns serve`);
  process.exit(2);
}
try {
  await runWorker(JSON.parse(raw) as DnsConfig, jsonLog);
} catch (e) {
  jsonLog('error', 'dns worker failed', { error: (e as Error).message });
  process.exit(1);
}
