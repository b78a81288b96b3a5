/** Processes in a running container: `exec`, `top`, and new limits for its cgroup (`update`). */
import { readFileSync } from 'node:fs';
import { BerthError, invalidArgument } from '../../lib/errors.js';
import { parseBytes } from '../../lib/units.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { resolveUserIn } from '../container-spec.js';
import type { ContainerContext } from './context.js';
import { helperStdio } from './stdio.js';
import type { ContainerStdio } from './types.js';

export interface ExecRequest {
  command: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  detach?: boolean;
  tty?: boolean;
  /** The process's stdio (none: all /dev/null). */
  stdio?: ContainerStdio;
  onStart?: (pid: number) => void;
}

/** `exec`: a process in a running container, with the container's settings. */
export async function exec(c: ContainerContext, nameOrId: string, o: ExecRequest): Promise<number> {
  const rec = c.store.running(nameOrId);
  if (o.command.length === 0) throw invalidArgument('exec: a command is required');
  const spec = c.spec(rec.Id);
  const p = spec.process!;
  // From here, what fails is the exec's start: dockerd gives such an exec the exit code 126.
  const cannotStart = (e: unknown, words: (m: string) => string) =>
    e instanceof BerthError ? new BerthError(e.kind, words(e.message), { exitCode: 126, cause: e }) : e;
  let user = p.user;
  if (o.user) {
    // Names as the container's own /etc/passwd and /etc/group say, read through its root.
    try {
      user = resolveUserIn(`/proc/${rec.State.Pid}/root`, o.user);
    } catch (e) {
      throw cannotStart(e, (m) => m);
    }
  }
  const ociFailed = (m: string) => `OCI runtime exec failed: exec failed: ${m}: unknown`;
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new BerthError('InvalidArgument', ociFailed('Cwd must be an absolute path'), { exitCode: 126 });
  let r;
  try {
    r = await c.runtime.exec(rec.Id, {
      process: { ...p, args: o.command, env: [...(p.env ?? []), ...(o.tty && !(p.env ?? []).some((e) => e.startsWith('TERM=')) ? ['TERM=xterm'] : []), ...(o.env ?? [])], cwd: o.workdir ?? p.cwd, user, terminal: false },
      detach: o.detach,
      tty: o.tty === true && !o.detach,
      stdio: helperStdio(o.stdio, { detached: o.detach }),
      terminal: o.tty && !o.detach ? o.stdio?.terminal : undefined,
      onStart: o.onStart,
    });
  } catch (e) {
    // The runtime's failure to start the process (not found, not executable, no such cwd).
    throw e instanceof BerthError && e.exitCode !== undefined ? cannotStart(e, ociFailed) : e;
  }
  return r.code;
}

/** `top`: the container's processes (pid, user, command). */
export function top(c: ContainerContext, nameOrId: string): { pid: number; user: string; command: string }[] {
  const rec = c.store.running(nameOrId);
  return c.runtime.ps(rec.Id).map((pid) => {
    let command = '';
    let uid = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    } catch {
      /* exited meanwhile */
    }
    return { pid, user: uid === '0' ? 'root' : uid, command };
  });
}

/** `update`: new resource limits for a running container (its cgroup). */
export function updateResources(c: ContainerContext, nameOrId: string, o: { memory?: string; cpus?: string; cpuShares?: number; pidsLimit?: number }): void {
  const rec = c.store.running(nameOrId);
  const res: NonNullable<NonNullable<Spec['linux']>['resources']> = {};
  if (o.memory) res.memory = { limit: parseBytes(o.memory, 'memory') };
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!(n > 0)) throw invalidArgument(`invalid argument ${JSON.stringify(o.cpus)} for "--cpus" flag: must be a positive number`);
    res.cpu = { quota: Math.round(n * 100000), period: 100000 };
  }
  if (o.cpuShares !== undefined) res.cpu = { ...res.cpu, shares: o.cpuShares };
  if (o.pidsLimit !== undefined) res.pids = { limit: o.pidsLimit };
  if (Object.keys(res).length === 0) throw invalidArgument('update: nothing to change (--memory, --cpus, --cpu-shares, --pids-limit)');
  c.runtime.update(rec.Id, res);
}
