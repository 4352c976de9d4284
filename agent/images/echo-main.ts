/**
 * The `klab/echo` image's entry: `klab echo` without the klab command tree. Every echo pod is a
 * Node process, and loading commander and klab's command table cost about a fifth of its
 * start-up CPU; this file imports only the echo server and Node's own argument parser.
 *
 *   node echo-main.js [--port 8080] [--tcp-port 9000] [--udp-port 9000] [--address IP] [--node NAME]
 */
import { parseArgs } from 'node:util';
import { ECHO_DEFAULTS, runEcho } from './echo.js';

let flags;
try {
  flags = parseArgs({
    options: {
      port: { type: 'string', default: ECHO_DEFAULTS.port },
      'tcp-port': { type: 'string', default: ECHO_DEFAULTS.tcpPort },
      'udp-port': { type: 'string', default: ECHO_DEFAULTS.udpPort },
      address: { type: 'string', default: ECHO_DEFAULTS.address },
      node: { type: 'string' },
    },
  }).values;
} catch (error) {
  console.error(`klab echo: ${(error as Error).message}`);
  process.exit(2);
}
await runEcho({
  port: flags.port,
  tcpPort: flags['tcp-port'],
  udpPort: flags['udp-port'],
  address: flags.address,
  ...(flags.node === undefined ? {} : { node: flags.node }),
});
