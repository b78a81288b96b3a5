/**
 * berth's userland port proxy (bundled as dist/berth-proxy.cjs, run detached, one per container):
 * the fallback for published ports where DNAT cannot work (no nftables or iptables on the host).
 * Listens on each host address and port and copies every connection (TCP) or datagram flow (UDP)
 * to the container's address and port. Writes its pid file once every port listens; on a port it
 * cannot bind it writes the reason to the pid file's ".err" and ends.
 *
 *   node berth-proxy.cjs PID_FILE PROTO:HOST_IP:HOST_PORT:CONTAINER_IP:CONTAINER_PORT ...
 *
 * The program's process (arguments, exit) is src/network/proxy-main.ts; this file is its logic.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';

export interface ProxySpec {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export function parseProxySpec(s: string): ProxySpec | undefined {
  const m = /^(tcp|udp):([\d.]*):(\d+):([\d.]+):(\d+)$/.exec(s);
  if (!m) return undefined;
  return { proto: m[1] as 'tcp' | 'udp', hostIp: m[2]!, hostPort: Number(m[3]), containerIp: m[4]!, containerPort: Number(m[5]) };
}

export function formatProxySpec(p: ProxySpec): string {
  return `${p.proto}:${p.hostIp}:${p.hostPort}:${p.containerIp}:${p.containerPort}`;
}

function tcp(p: ProxySpec): Promise<Server> {
  const server = createServer((client) => {
    const up = connect({ host: p.containerIp, port: p.containerPort });
    client.pipe(up);
    up.pipe(client);
    const close = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', close);
    up.on('error', close);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: p.hostIp || '0.0.0.0', port: p.hostPort, exclusive: true }, () => resolve(server));
  });
}

function udp(p: ProxySpec): Promise<Socket> {
  const s = createSocket('udp4');
  const flows = new Map<string, { sock: Socket; last: number }>();
  s.on('message', (msg, r: RemoteInfo) => {
    const key = `${r.address}:${r.port}`;
    let f = flows.get(key);
    if (!f) {
      const sock = createSocket('udp4');
      sock.on('message', (back) => {
        f!.last = Date.now();
        s.send(back, r.port, r.address);
      });
      sock.on('error', () => {});
      f = { sock, last: Date.now() };
      flows.set(key, f);
    }
    f.last = Date.now();
    f.sock.send(msg, p.containerPort, p.containerIp);
  });
  setInterval(() => {
    for (const [k, f] of flows) if (Date.now() - f.last > 60_000) (f.sock.close(), flows.delete(k));
  }, 10_000).unref();
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(p.hostPort, p.hostIp || '0.0.0.0', () => resolve(s));
  });
}

/**
 * The proxy's program (src/network/proxy-main.ts runs it): listens on every port of `specs`, then
 * writes `pid` to `pidFile` (startProxy in proxy.ts waits for it). On a bad spec or a port it
 * cannot bind it writes the reason to the pid file's ".err" and throws.
 */
export async function serveProxy(pidFile: string, specs: string[], pid: number): Promise<void> {
  const ports = specs.map(parseProxySpec);
  try {
    if (ports.some((p) => !p)) throw new Error(`bad proxy spec in ${specs.join(' ')}`);
    for (const p of ports) await (p!.proto === 'tcp' ? tcp(p!) : udp(p!));
  } catch (e) {
    writeFileSync(`${pidFile}.err`, (e as Error).message);
    throw e;
  }
  writeFileSync(pidFile, String(pid));
}
