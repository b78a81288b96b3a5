/**
 * `stats` (and the API's /containers/{id}/stats): a container's resource use as Docker computes
 * it — CPU % between two readings of its cgroup, memory less the page cache that can be dropped
 * (out of its limit, or the host's memory), network bytes of its interfaces (/proc/PID/net/dev),
 * block I/O, and its number of processes.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerService } from './containers.js';

export interface StatsQuery {
  /** Names or ids; none: every running container (every container with `all`). */
  containers?: string[];
  all?: boolean;
}

/** One reading of one container; a container that is not running reads all zeros. */
export interface ContainerStats {
  Id: string;
  Name: string;
  /** Of one CPU: 200 is two CPUs busy. */
  CPUPercent: number;
  /** Bytes in use (less the inactive page cache), and the limit (the host's memory if none). */
  MemoryUsage: number;
  MemoryLimit: number;
  MemoryPercent: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PIDs: number;
}

/** The cgroup's figures, as runtime.stats reads them. */
interface CgroupStats {
  memory?: { usage?: number; limit?: number | null; stats?: Record<string, number> };
  pids?: { current?: number };
  cpu?: { usageTotal?: number };
  blkio?: { devices: { readBytes: number; writeBytes: number }[] };
}

/** Takes readings; CPU % is from the previous reading of the same container (0 at the first). */
export class StatsSampler {
  private readonly last = new Map<string, { at: number; cpu: number }>();

  constructor(private readonly svc: ContainerService) {}

  sample(q: StatsQuery = {}): ContainerStats[] {
    const names = q.containers?.length ? q.containers : this.svc.list().filter((c) => q.all || c.State.Status === 'running').map((c) => c.Name);
    return names.map((n) => this.one(n));
  }

  private one(nameOrId: string): ContainerStats {
    const rec = this.svc.find(nameOrId);
    const zero = { Id: rec.Id, Name: rec.Name, CPUPercent: 0, MemoryUsage: 0, MemoryLimit: 0, MemoryPercent: 0, NetworkRx: 0, NetworkTx: 0, BlockRead: 0, BlockWrite: 0, PIDs: 0 };
    if (rec.State.Status !== 'running') return zero;
    const st = this.svc.stats(rec.Id).stats as unknown as CgroupStats;
    // Docker's figure: memory in use less the page cache that can be dropped.
    const cache = st.memory?.stats?.['total_inactive_file'] ?? st.memory?.stats?.['inactive_file'] ?? 0;
    const mem = Math.max(0, (st.memory?.usage ?? 0) - cache);
    const hostMem = totalmem();
    const limit = st.memory?.limit && st.memory.limit < hostMem ? st.memory.limit : hostMem;
    const now = { at: Number(process.hrtime.bigint()), cpu: st.cpu?.usageTotal ?? 0 };
    const prev = this.last.get(rec.Id);
    this.last.set(rec.Id, now);
    const cpu = prev && now.at > prev.at ? (100 * (now.cpu - prev.cpu)) / (now.at - prev.at) : 0;
    const devices = st.blkio?.devices ?? [];
    return {
      ...zero,
      ...netIO(rec.State.Pid),
      CPUPercent: cpu,
      MemoryUsage: mem,
      MemoryLimit: limit,
      MemoryPercent: (100 * mem) / limit,
      BlockRead: devices.reduce((a, d) => a + d.readBytes, 0),
      BlockWrite: devices.reduce((a, d) => a + d.writeBytes, 0),
      PIDs: st.pids?.current ?? 0,
    };
  }
}

/**
 * Readings of the containers: the first half a second after a first (unshown) one, so that it has
 * a CPU %; with `stream`, then one a second until the caller stops.
 */
export async function* statsReadings(svc: ContainerService, q: StatsQuery & { stream?: boolean } = {}): AsyncGenerator<ContainerStats[]> {
  const sampler = new StatsSampler(svc);
  sampler.sample(q);
  await sleep(500);
  yield sampler.sample(q);
  while (q.stream) {
    await sleep(1000);
    yield sampler.sample(q);
  }
}

/** Bytes received and sent on the interfaces of the process's network namespace, but lo. */
function netIO(pid: number): { NetworkRx: number; NetworkTx: number } {
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const [ifname, rest] = line.split(':');
      if (!rest || ifname!.trim() === 'lo') continue;
      const f = rest.trim().split(/\s+/).map(Number);
      rx += f[0] ?? 0;
      tx += f[8] ?? 0;
    }
  } catch {
    /* gone */
  }
  return { NetworkRx: rx, NetworkTx: tx };
}
