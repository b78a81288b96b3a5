/** Processes in a running container: `exec`, `top`, and new limits for its cgroup (`update`). */
import { readFileSync } from 'node:fs';
import { BerthError, conflict, internal, invalidArgument } from '../../lib/errors.js';
import { execTool } from '../../sys/exec.js';
import { parseBytes } from '../../lib/units.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { processUserIn } from '../container-spec.js';
import type { RestartPolicy } from '../models.js';
import { replaceOrAppendEnv } from './config.js';
import type { ContainerContext } from './context.js';
import { restartPolicyOf } from './restart.js';
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
  if (rec.State.Paused) throw conflict(`Container ${nameOrId} is paused, unpause the container before exec`);
  if (o.command.length === 0) throw invalidArgument('exec: a command is required');
  const spec = c.spec(rec.Id);
  const p = spec.process!;
  // From here, what fails is the exec's start: dockerd gives such an exec the exit code 126.
  const cannotStart = (e: unknown, words: (m: string) => string) =>
    e instanceof BerthError ? new BerthError(e.kind, words(e.message), { exitCode: 126, cause: e }) : e;
  let user = p.user;
  // The container's environment, as Docker gives an exec'd process: TERM only with its own
  // terminal, the exec's variables over it, HOME last (the user's, unless an Env sets it).
  const own = (k: string) => (rec.Config?.Env ?? []).some((e) => e.startsWith(`${k}=`));
  let home = p.env?.find((e) => e.startsWith('HOME='));
  let env = (p.env ?? []).filter((e) => (own('HOME') || !e.startsWith('HOME=')) && (own('TERM') || !rec.Config || e !== 'TERM=xterm'));
  if (o.user) {
    // Names as the container's own /etc/passwd and /etc/group say, read through its root; the
    // container's --group-add too.
    try {
      const pu = processUserIn(`/proc/${rec.State.Pid}/root`, o.user, rec.HostConfig?.GroupAdd ?? undefined);
      user = { uid: pu.uid, gid: pu.gid, additionalGids: pu.additionalGids };
      if (rec.Config) home = `HOME=${pu.home}`;
    } catch (e) {
      throw cannotStart(e, (m) => m);
    }
  }
  if (o.tty && !env.some((e) => e.startsWith('TERM='))) {
    const at = env.findIndex((e) => e.startsWith('HOSTNAME='));
    env.splice(at < 0 ? env.length : at + 1, 0, 'TERM=xterm');
  }
  env = replaceOrAppendEnv(env, o.env ?? []);
  if (home && !env.some((e) => e.startsWith('HOME='))) env.push(home);
  const ociFailed = (m: string) => `OCI runtime exec failed: exec failed: ${m}: unknown`;
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new BerthError('InvalidArgument', ociFailed('Cwd must be an absolute path'), { exitCode: 126 });
  let r;
  try {
    r = await c.runtime.exec(rec.Id, {
      process: { ...p, args: o.command, env, cwd: o.workdir ?? p.cwd, user, terminal: false },
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

/** `top` as Docker's ContainerTopOKBody: the titles of ps's columns and a row for each process. */
export interface ContainerTop {
  Titles: string[];
  Processes: string[][];
}

/**
 * `top`: the host's `ps` (Docker's default arguments `-ef`, or the caller's, split at spaces as
 * dockerd does), its rows kept for the container's processes (by the PID column; a thread's line
 * "-" goes with the process before it), with host pids as Docker shows them.
 */
export function top(c: ContainerContext, nameOrId: string, psArgs = ''): ContainerTop {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
  const pids = new Set(c.runtime.ps(rec.Id));
  const r = execTool('ps', (psArgs || '-ef').split(' '));
  if (r.status !== 0) throw invalidArgument(`ps: ${r.stderr.split('\n')[0] ?? ''}`);
  const lines = r.stdout.split('\n');
  const Titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidAt = Titles.indexOf('PID');
  if (pidAt < 0) throw internal("Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  const add = (fields: string[]) => Processes.push([...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')]);
  let inside = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const fields = line.trim().split(/\s+/);
    const f = fields[pidAt] ?? '';
    if (f === '-') {
      if (inside) add(fields);
      continue;
    }
    if (!/^\d+$/.test(f)) throw internal(`Unexpected pid '${f}': strconv.Atoi: parsing ${JSON.stringify(f)}: invalid syntax`);
    inside = pids.has(Number(f));
    if (inside) add(fields);
  }
  return { Titles, Processes };
}

/**
 * `update`: a new restart policy (any container; a running one's monitor follows it when it
 * ends) and new resource limits (a running container's cgroup).
 */
export function updateResources(c: ContainerContext, nameOrId: string, o: { memory?: string; cpus?: string; cpuShares?: number; pidsLimit?: number; restart?: RestartPolicy }): void {
  if (o.restart !== undefined) {
    const policy = restartPolicyOf(o.restart);
    const found = c.store.find(nameOrId);
    if (found.AutoRemove && policy.Name !== 'no') throw conflict(`Cannot update container ${found.Id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
    c.store.patch(found, { RestartPolicy: policy });
    if (o.memory === undefined && o.cpus === undefined && o.cpuShares === undefined && o.pidsLimit === undefined) return;
  }
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
