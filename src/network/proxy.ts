/** Starting and stopping a container's userland port proxy (proxy-server.ts). */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, internal } from '../lib/errors.js';
import { berthPackageRoot } from '../sys/paths.js';
import { processAlive } from '../sys/proc.js';
import { formatProxySpec, type ProxySpec } from './proxy-server.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function pidOf(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the proxy for these ports; returns once every port listens, or throws why not. */
export function startProxy(pidFile: string, ports: ProxySpec[]): void {
  const script = join(berthPackageRoot(), 'dist', 'berth-proxy.cjs');
  if (!existsSync(script)) throw internal(`the port proxy ${script} is missing: run the build`);
  rmSync(pidFile, { force: true });
  rmSync(`${pidFile}.err`, { force: true });
  const child = spawn(process.execPath, [script, pidFile, ...ports.map(formatProxySpec)], { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 500; i++) {
    if (pidOf(pidFile) !== undefined) return;
    if (existsSync(`${pidFile}.err`)) break;
    Atomics.wait(sleeper, 0, 0, 10);
  }
  let why = 'it did not start';
  try {
    why = readFileSync(`${pidFile}.err`, 'utf8');
  } catch {
    /* none */
  }
  stopProxy(pidFile);
  throw failedPrecondition(`publishing ports through the userland proxy: ${why}`);
}

export function stopProxy(pidFile: string): void {
  const pid = pidOf(pidFile);
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  rmSync(pidFile, { force: true });
  rmSync(`${pidFile}.err`, { force: true });
}
