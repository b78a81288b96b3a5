/**
 * Entry of dist/berth-proxy.cjs, the userland port proxy (proxy-server.ts):
 *   node berth-proxy.cjs PID_FILE PROTO:HOST_IP:HOST_PORT:CONTAINER_IP:CONTAINER_PORT ...
 * Only the process's own part is here; on a port it cannot take it ends (its listeners would
 * keep it alive), after serveProxy wrote why.
 */
import { serveProxy } from './proxy-server.js';

const [pidFile, ...specs] = process.argv.slice(2);
if (pidFile) {
  serveProxy(pidFile, specs, process.pid).catch(() => {
    process.exitCode = 1;
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
  });
}
