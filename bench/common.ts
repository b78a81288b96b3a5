/** Shared pieces of berth's benchmarks: timing, medians, tables. Never used by tests. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

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
    lines.push(`${r.name.padEnd(44)} ${m.toFixed(1).padStart(10)} ${Math.min(...r.times).toFixed(1).padStart(8)} ${String(r.times.length).padStart(5)}  ${(m / bm).toFixed(2)}x`);
  }
  return lines.join('\n');
}
