/** Shared pieces of berth's benchmarks: timing, medians, tables. Never used by tests. */
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podmanConf } from '../test/podman-conf.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function ms(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** Times one synchronous command; returns ms, throwing with its stderr when it fails. */
export function timeCommand(cmd: string, args: string[], opts: SpawnSyncOptions = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const t = ms(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${String(r.stderr ?? '').trim().split('\n').pop()}`);
  return t;
}

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface Row {
  name: string;
  times: number[];
  error?: string;
}

export function table(rows: Row[], base: string): string {
  const b = rows.find((r) => r.name === base);
  const bm = b && b.times.length ? median(b.times) : NaN;
  const lines = [`${'what'.padEnd(44)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'runs'.padStart(5)}  ratio to ${base}`];
  for (const r of rows) {
    if (r.error || r.times.length === 0) {
      lines.push(`${r.name.padEnd(44)} ${'-'.padStart(10)} ${'-'.padStart(8)} ${'0'.padStart(5)}  ${r.error ?? 'no runs'}`);
      continue;
    }
    const m = median(r.times);
    lines.push(`${r.name.padEnd(44)} ${m.toFixed(1).padStart(10)} ${Math.min(...r.times).toFixed(1).padStart(8)} ${String(r.times.length).padStart(5)}  ${Number.isNaN(bm) ? '-' : `${(m / bm).toFixed(2)}x`}`);
  }
  return lines.join('\n');
}

/**
 * crun refuses a hybrid host while a controller (hugetlb here) is enabled on the cgroup2 mount.
 * Moving hugetlb to a v1 hierarchy of its own for the run is the condition crun needs; berth runs
 * either way. Undone at the end if this run made it.
 */
export function crunHybridWorkaround(crunPath: string | undefined, notes: string[]): () => void {
  const unified = '/sys/fs/cgroup/unified';
  const mp = '/sys/fs/cgroup/hugetlb';
  if (!crunPath || !existsSync(join(unified, 'cgroup.controllers')) || existsSync(mp)) return () => {};
  let controllers = '';
  try {
    controllers = execFileSync('cat', [join(unified, 'cgroup.controllers')], { encoding: 'utf8' }).trim();
  } catch {
    return () => {};
  }
  if (!controllers.split(/\s+/).includes('hugetlb')) return () => {};
  // A controller enabled in some cgroup's subtree_control cannot move: disabled there (deepest
  // first) for the run, enabled again (top down) after.
  const subtree = (d: string): string[] => [
    d,
    ...readdirSync(d)
      .map((n) => join(d, n))
      .filter((q) => statSync(q).isDirectory())
      .flatMap(subtree),
  ];
  const enabled = subtree(unified).filter((d) => {
    try {
      return readFileSync(join(d, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('hugetlb');
    } catch {
      return false;
    }
  });
  const setHugetlb = (dirs: string[], op: '+' | '-') => {
    for (const d of dirs) {
      try {
        writeFileSync(join(d, 'cgroup.subtree_control'), `${op}hugetlb`);
      } catch {
        /* gone, or in use */
      }
    }
  };
  setHugetlb([...enabled].reverse(), '-');
  try {
    mkdirSync(mp);
    execFileSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', mp]);
  } catch (e) {
    notes.push(`could not move hugetlb to a v1 hierarchy for crun: ${(e as Error).message.split('\n')[0]}`);
    try {
      rmdirSync(mp);
    } catch {
      /* not made */
    }
    setHugetlb(enabled, '+');
    return () => {};
  }
  notes.push('hugetlb was moved from the cgroup2 mount to a v1 hierarchy for this run (crun refuses hybrid hosts otherwise), and moved back after');
  return () => {
    const dirs = (d: string): string[] => readdirSync(d).map((n) => join(d, n)).filter((p) => statSync(p).isDirectory()).flatMap((p) => [...dirs(p), p]);
    for (const d of dirs(mp)) {
      try {
        rmdirSync(d);
      } catch {
        /* in use by someone else */
      }
    }
    // The kernel frees an unmounted hierarchy only if it had no cgroups then, dying ones
    // included; until it does, hugetlb stays bound to it. Unmounted, and mounted and unmounted
    // again, until hugetlb is back on cgroup2.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const back = () => readFileSync(join(unified, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('hugetlb');
    for (let attempt = 0; attempt < 5 && !back(); attempt++) {
      try {
        if (attempt > 0) execFileSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', mp]);
        execFileSync('umount', [mp]);
      } catch (e) {
        notes.push(`unmounting ${mp}: ${(e as Error).message.split('\n')[0]}`);
        break;
      }
      for (let i = 0; i < 10 && !back(); i++) Atomics.wait(pause, 0, 0, 100);
    }
    try {
      rmdirSync(mp);
    } catch {
      /* still mounted */
    }
    if (!back()) notes.push(`hugetlb is still off the cgroup2 mount (bound to a v1 hierarchy no longer mounted)`);
    setHugetlb(enabled, '+');
  };
}

/**
 * For a benchmark that runs podman (which runs its containers with crun): the hugetlb move of
 * crunHybridWorkaround for the whole run, undone at exit after `cleanup` (what the benchmark
 * made must be gone first, or the hierarchy stays), and what it did printed then.
 */
export function hugetlbForPodman(podman: string | undefined, cleanup?: () => void): void {
  const notes: string[] = [];
  // podman (and the processes it starts) read a configuration of this run's own, not /etc's.
  const confDir = mkdtempSync(join(tmpdir(), 'berth-bench-podman-'));
  if (podman) process.env.CONTAINERS_CONF = podmanConf(confDir);
  const undo = crunHybridWorkaround(podman ? which('crun') : undefined, notes);
  process.on('exit', () => {
    try {
      cleanup?.();
    } catch {
      /* failed before what it cleans was set up */
    }
    undo();
    rmSync(confDir, { recursive: true, force: true });
    for (const n of notes) console.log(`note: ${n}`);
  });
}
