/** Starting, feeding and stopping the DNS server of a user-defined network (dns-server.ts). */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { internal } from '../lib/errors.js';
import { writeFileAtomic } from '../sys/fs.js';
import { berthPackageRoot } from '../sys/paths.js';
import { hostResolvText } from './etc.js';
import { processAlive } from '../sys/proc.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export interface DnsFiles {
  records: string;
  pid: string;
}

export function dnsFiles(dir: string, netId: string): DnsFiles {
  return { records: join(dir, `${netId}.json`), pid: join(dir, `${netId}.pid`) };
}

/**
 * The resolvers the server forwards to: BERTH_DNS_UPSTREAM (host[:port],...) when set, else the
 * host's /etc/resolv.conf nameservers (loopback ones too: the server runs on the host).
 */
export function upstreamResolvers(given?: string): string[] {
  const env = given ?? process.env.BERTH_DNS_UPSTREAM;
  if (env !== undefined) return env.split(',').map((s) => s.trim()).filter(Boolean);
  return [...hostResolvText().matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
}

function serverPid(f: DnsFiles): number | undefined {
  try {
    const pid = Number(readFileSync(f.pid, 'utf8').trim());
    return processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the names the server answers; starts the server when it is not running, forwarding to
 * `upstream` (host[:port],...; undefined: BERTH_DNS_UPSTREAM or the host's resolvers).
 */
export function updateDns(f: DnsFiles, listen: string, names: Record<string, string[]>, upstream?: string): void {
  mkdirSync(join(f.records, '..'), { recursive: true });
  writeFileAtomic(f.records, JSON.stringify({ names }));
  if (serverPid(f) !== undefined) return;
  rmSync(f.pid, { force: true });
  const script = join(berthPackageRoot(), 'dist', 'berth-dns.cjs');
  if (!existsSync(script)) throw internal(`the DNS server ${script} is missing: run the build`);
  const child = spawn(process.execPath, [script, listen, f.records, f.pid, upstreamResolvers(upstream).join(',')], { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 300; i++) {
    if (serverPid(f) !== undefined) return;
    if (child.exitCode !== null) break;
    Atomics.wait(sleeper, 0, 0, 10);
  }
  if (serverPid(f) === undefined) throw internal(`starting the DNS server for ${listen}:53 failed (is port 53 on that address taken?)`);
}

/** Stops the server and removes its files. */
export function stopDns(f: DnsFiles): void {
  const pid = serverPid(f);
  rmSync(f.records, { force: true });
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  rmSync(f.pid, { force: true });
}

export function dnsRunning(f: DnsFiles): boolean {
  return serverPid(f) !== undefined;
}
