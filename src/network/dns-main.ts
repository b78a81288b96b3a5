/**
 * Entry of dist/berth-dns.cjs, the DNS server of one user-defined network (dns-server.ts):
 *   node berth-dns.cjs LISTEN_IP RECORDS_FILE PID_FILE UPSTREAM[,UPSTREAM...]   (host[:port])
 * Only the process's own part is here: its arguments, and SIGTERM to stop.
 */
import { parseDnsArgs, serveDns } from './dns-server.js';

const o = parseDnsArgs(process.argv.slice(2));
if (o) {
  const server = serveDns(o);
  process.on('SIGTERM', server.stop);
}
