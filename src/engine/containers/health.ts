/**
 * Health checks: the check a container gets (--health-* over the image's HEALTHCHECK), and one
 * run of it (what the monitor runs every interval), its result written into the record.
 */
import { closeSync, createWriteStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../lib/errors.js';
import type { ContainerContext } from './context.js';
import { exec } from './exec.js';
import type { HealthConfig } from '../models.js';
import type { ContainerRecord } from './types.js';

export interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

/**
 * The container's health check: the request's Healthcheck over the image's HEALTHCHECK (both
 * in nanoseconds, a field 0 or absent taking the image's, then Docker's default), as the record
 * keeps it (milliseconds, the command to exec).
 */
export function healthcheckOf(o: HealthConfig | undefined, image: ImageHealthcheck | undefined): ContainerRecord['Healthcheck'] {
  const testOf = (t: string[] | undefined): string[] | 'none' | undefined => {
    if (!t?.length) return undefined;
    const [kind, ...rest] = t;
    if (kind === 'NONE') return 'none';
    return kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : undefined;
  };
  const test = testOf(o?.Test) ?? testOf(image?.Test);
  if (test === 'none' || !test?.length) return undefined;
  const ms = (ns: number | undefined) => (ns ? Math.round(ns / 1e6) : undefined);
  const interval = ms(o?.Interval) ?? ms(image?.Interval) ?? 30_000;
  const timeout = ms(o?.Timeout) ?? ms(image?.Timeout) ?? 30_000;
  const retries = o?.Retries || image?.Retries || 3;
  if (!(interval > 0) || !(timeout > 0) || !(retries >= 1)) throw invalidArgument('--health-interval and --health-timeout must be positive durations, --health-retries at least 1');
  return { Test: test, IntervalMs: interval, TimeoutMs: timeout, Retries: retries, StartPeriodMs: ms(o?.StartPeriod) ?? ms(image?.StartPeriod) ?? 0 };
}

/** What the monitor runs every health interval: the check, its result in the record. */
export async function healthcheck(c: ContainerContext, nameOrId: string): Promise<void> {
  const rec = c.store.find(nameOrId);
  const hc = rec.Healthcheck;
  if (!hc || rec.State.Status !== 'running') return;
  const outFile = join(c.bundleDir(rec.Id), 'health.out');
  const fd = openSync(outFile, 'w');
  const start = new Date();
  let code = -1;
  let pid = 0;
  const timer = setTimeout(() => {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* ended */
      }
    }
  }, hc.TimeoutMs);
  try {
    const out = createWriteStream('', { fd, autoClose: false });
    code = await exec(c, rec.Id, { command: hc.Test, stdio: { stdout: out, stderr: out }, onStart: (p) => (pid = p) });
  } catch (e) {
    code = -1;
    writeFileSync(outFile, (e as Error).message);
  } finally {
    clearTimeout(timer);
    closeSync(fd);
  }
  const output = readFileSync(outFile, 'utf8').slice(0, 4096);
  const end = new Date().toISOString();
  // Read, changed and written under the record's lock: others write it meanwhile.
  const written = c.store.update(rec.Id, (now) => {
    const prev = now.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const inStartPeriod = Date.now() - Date.parse(now.State.StartedAt) < hc.StartPeriodMs;
    const streak = code === 0 ? 0 : inStartPeriod ? prev.FailingStreak : prev.FailingStreak + 1;
    const status = code === 0 ? 'healthy' : streak >= hc.Retries ? 'unhealthy' : prev.Status;
    now.Health = { Status: status, FailingStreak: streak, Log: [...prev.Log, { Start: start.toISOString(), End: end, ExitCode: code, Output: output }].slice(-5) };
  });
  if (!written) throw notFound(`No such container: ${nameOrId}`);
}
