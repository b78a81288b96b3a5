/**
 * A container's life: `start` (under its monitor, or attached to this process), `run`, `stop`,
 * `kill`, `wait`, `restart`, `attach`, `pause`, and `rm`/`prune`. Each change of the record is
 * written under its lock, as a patch of the fields this step sets.
 */
import { sweepOrphans } from './orphans.js';
import { mkdirSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { nowRfc3339Nano } from '../../lib/duration.js';
import { BerthError, conflict, failedPrecondition, invalidArgument } from '../../lib/errors.js';
import { dockerSignal } from '../../lib/signal.js';
import { mark } from '../../lib/timing.js';
import { connectAttach } from '../../sys/attach.js';
import { berthCli } from '../../sys/paths.js';
import { processAlive } from '../../sys/proc.js';
import type { ContainerContext, RootfsMount } from './context.js';
import { mountVolumes, releaseVolumes } from './volume-mounts.js';
import { create } from './create.js';
import { restartPolicyOf } from './restart.js';
import { helperStdio } from './stdio.js';
import type { ContainerRecord, ContainerStdio, RunOptions } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `attach`: a connection to a running container's monitor: its output as frames (stream 1 or
 * 2), and input, terminal size and end of input as frames back (src/sys/attach.ts).
 */
export async function attach(c: ContainerContext, nameOrId: string): Promise<{ id: string; socket: Socket; tty: boolean; openStdin: boolean }> {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status !== 'running') throw failedPrecondition(`You cannot attach to a stopped container, start it first`);
  if (rec.State.Paused) throw conflict(`You cannot attach to a paused container, unpause it first`);
  if (!rec.Detached) throw failedPrecondition(`container ${rec.Name} runs in the foreground of another berth process: attach to it there`);
  let socket: Socket;
  try {
    socket = await connectAttach(c.attachSocket(rec.Id));
  } catch (e) {
    throw failedPrecondition(`attach to container ${rec.Name}: its monitor does not answer (${(e as Error).message})`);
  }
  return { id: rec.Id, socket, tty: rec.Tty === true, openStdin: rec.OpenStdin === true };
}

/** `run -d`: starts the container under its monitor and returns at once. */
async function runDetached(c: ContainerContext, rec: ContainerRecord, bundle: string, m: RootfsMount): Promise<void> {
  const { root, runroot } = c.opts;
  mkdirSync(c.logDir(rec.Id), { recursive: true });
  rec.LogPath = join(c.logDir(rec.Id), 'json.log');
  rec.Detached = true;
  // The monitor runs berth's cleanup when the container ends: the restart policy (also one that
  // `update --restart` gives it while it runs), --rm.
  const exitCommand = [...berthCli(), '--root', root, '--runroot', runroot, 'container', 'cleanup', rec.Id, ...(rec.NetToken ? [rec.NetToken] : [])];
  // The monitor joined the container's network namespace (given by path) before it started the
  // container; it runs its exit command back in its own (the host's), which the cleanup needs.
  const self = [...berthCli(), '--root', root, '--runroot', runroot];
  const health = rec.Healthcheck ? { intervalMs: rec.Healthcheck.IntervalMs, command: [...self, 'container', 'healthcheck', rec.Id] } : undefined;
  if (rec.Healthcheck) rec.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
  const r = await c.runtime.runDetached(rec.Id, { bundle, rootfsMount: m, loopbackUp: true, log: rec.LogPath, status: c.statusFile(rec.Id), exitCommand, health, tty: rec.Tty, attach: { socket: c.attachSocket(rec.Id), openStdin: rec.OpenStdin === true } });
  const State: ContainerRecord['State'] = { ...rec.State, ...RUNNING, Pid: r.pid, MonitorPid: r.monitorPid, StartedAt: nowRfc3339Nano() };
  c.store.patch(rec, { ManuallyStopped: false, RestartCount: rec.RestartCount, LogPath: rec.LogPath, Detached: true, ...(rec.Health ? { Health: rec.Health } : {}), State });
}

/** What a start that worked sets in State (besides Pid and StartedAt). */
const RUNNING = { Status: 'running', Paused: false, Restarting: false, Error: '', ExitCode: 0, OOMKilled: false } as const;

export interface StartOptions {
  attach?: boolean;
  tty?: boolean;
  stdio?: ContainerStdio;
  onStart?: (pid: number) => void;
  /** Started by its restart policy (keeps RestartCount; a start by a user sets it to 0, as Docker's). */
  byPolicy?: boolean;
}

/**
 * The container's process could not be started (the runtime's error carries the exit code a
 * shell would give: 126, 127), in the daemon's words: what containerd's shim and the OCI
 * runtime add around the runtime's reason.
 */
function startFailure(e: unknown): unknown {
  if (!(e instanceof BerthError) || e.exitCode === undefined) return e;
  return new BerthError(e.kind, `failed to create shim task: OCI runtime create failed: berth-runtime create failed: ${e.message}: unknown`, { exitCode: e.exitCode, cause: e });
}

/**
 * `start`: runs a created or exited container: under its monitor (detached), or attached to
 * this process until it ends (returns its exit code). A start that fails before the container's
 * process runs leaves it as it was, with the error in State.Error and State.ExitCode 127 (no such
 * command), 126 (cannot run it) or 128 (anything else), as Docker's.
 */
export async function start(c: ContainerContext, nameOrId: string, opts: StartOptions = {}): Promise<{ code: number; oomKilled: boolean }> {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status === 'running') {
    if (rec.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
    return { code: 0, oomKilled: false };
  }
  let started = false;
  try {
    return await startStopped(c, rec, { ...opts, onStart: (pid) => ((started = true), opts.onStart?.(pid)) });
  } catch (e) {
    if (!started) {
      const code = e instanceof BerthError && e.exitCode !== undefined ? e.exitCode : 128;
      c.store.update(rec.Id, (cur) => {
        if (cur.State.Status === 'running') return;
        cur.State = { ...cur.State, ExitCode: code, Error: e instanceof Error ? e.message : String(e), Restarting: false };
      });
    }
    throw e;
  }
}

async function startStopped(c: ContainerContext, rec: ContainerRecord, opts: StartOptions): Promise<{ code: number; oomKilled: boolean }> {
  const o = { ...opts, tty: opts.tty ?? rec.Tty === true };
  for (const l of rec.Links ?? []) {
    const child = c.store.names.lookup(l.slice(1).split(':')[0]!);
    const other = child === undefined ? undefined : c.store.read(child);
    if (!other || other.State.Status !== 'running') throw failedPrecondition(`Cannot link to a non running container: ${l.replace(':', ' AS ')}`);
  }
  // (Written with the first change below: a started container is restarted by its policy again.)
  rec.ManuallyStopped = false;
  if (!o.byPolicy) rec.RestartCount = 0;
  if (c.runtime.exists(rec.Id)) await c.runtime.delete(rec.Id, true).catch(() => {});
  rmSync(c.statusFile(rec.Id), { force: true });
  await mountVolumes(c, rec);
  const rootfsMount = await c.rootfsMount(rec);
  const bundle = c.bundleDir(rec.Id);
  // Its network namespace, veths, published ports and DNS names, before its process.
  const net = rec.NetworkSettings ? await c.networks() : undefined;
  if (net) {
    const up = await net.up({ id: rec.Id, name: rec.Name, settings: rec.NetworkSettings! });
    c.store.patch(rec, { ManuallyStopped: false, RestartCount: rec.RestartCount, PortsUp: up.ports, NetToken: up.token });
  }
  const netDown = () => {
    if (!net) return;
    net.down(rec.Id);
    rec.PortsUp = undefined;
  };
  if (!o.attach) {
    try {
      await runDetached(c, rec, bundle, rootfsMount);
    } catch (e) {
      netDown();
      c.store.patch(rec, { ManuallyStopped: false, PortsUp: undefined, LogPath: rec.LogPath, Detached: rec.Detached, Health: rec.Health });
      await releaseVolumes(c, rec);
      throw startFailure(e);
    }
    return { code: 0, oomKilled: false };
  }
  // Attached without a terminal, the helper passes the output through and keeps the log too.
  if (!o.tty) {
    mkdirSync(c.logDir(rec.Id), { recursive: true });
    rec.LogPath = join(c.logDir(rec.Id), 'json.log');
  }
  let res;
  try {
    res = await c.runtime.run(rec.Id, {
      bundle,
      stdio: helperStdio(o.stdio),
      tty: o.tty,
      terminal: o.tty ? o.stdio?.terminal : undefined,
      loopbackUp: true,
      log: o.tty ? undefined : rec.LogPath,
      status: o.tty ? undefined : c.statusFile(rec.Id),
      rootfsMount,
      onStart: (pid) => {
        c.store.patch(rec, { ManuallyStopped: false, RestartCount: rec.RestartCount, LogPath: rec.LogPath, State: { ...rec.State, ...RUNNING, Pid: pid, MonitorPid: 0, StartedAt: nowRfc3339Nano() } });
        o.onStart?.(pid);
      },
    });
  } catch (e) {
    throw startFailure(e);
  } finally {
    netDown();
  }
  c.store.patch(rec, { PortsUp: undefined, State: { ...rec.State, Status: 'exited', Paused: false, ExitCode: res.code, FinishedAt: nowRfc3339Nano(), OOMKilled: res.oomKilled } });
  await releaseVolumes(c, rec);
  if (rec.IdShift) await c.unmountRootfs(rec.Id);
  return res;
}

/**
 * `run`: create and start; with `rm`, removed when it ends (or fails to start). Without `rm`, a
 * container whose start failed stays, created, with the error in its State (as Docker's).
 */
export async function run(c: ContainerContext, o: RunOptions): Promise<{ id: string; code: number; oomKilled: boolean }> {
  const policy = restartPolicyOf(o.restart).Name;
  if (policy !== 'no' && o.rm) throw invalidArgument('conflicting options: cannot specify both --restart and --rm');
  if (policy !== 'no' && !o.detach) throw invalidArgument('--restart needs -d (a foreground container has no monitor to restart it)');
  mark('engine: run');
  const rec = await create(c, { ...o, autoRemove: o.rm === true && o.detach === true });
  mark('engine: created');
  o.onCreate?.(rec.Id);
  try {
    const r = await start(c, rec.Id, { attach: !o.detach, tty: o.tty, stdio: o.stdio, onStart: o.onStart });
    return { id: rec.Id, ...r };
  } catch (e) {
    if (o.rm) await remove(c, rec.Id, true, true).catch(() => {});
    throw e;
  } finally {
    // --rm takes the container's anonymous volumes with it, as Docker does; a detached one is
    // removed by its monitor's cleanup when it ends.
    if (o.rm && !o.detach && c.store.exists(rec.Id)) {
      mark('engine: removing');
      await remove(c, rec.Id, true, true).catch(() => {});
      mark('engine: removed');
    }
  }
}

/**
 * Sends `sig` to a running container's process; a paused one is unpaused after, so that it gets
 * the signal (Docker's killWithSignal does so for SIGKILL and the stop signal; berth for any, as
 * Docker's does for a container without a stop signal of its own).
 */
function signalContainer(c: ContainerContext, rec: ContainerRecord, sig: number): void {
  try {
    process.kill(rec.State.Pid, sig);
  } catch {
    /* gone meanwhile */
  }
  if (rec.State.Paused) {
    try {
      c.runtime.resume(rec.Id);
    } catch {
      /* ended meanwhile */
    }
    setPaused(c, rec, false);
  }
}

function setPaused(c: ContainerContext, rec: ContainerRecord, paused: boolean): void {
  rec.State.Paused = paused;
  c.store.update(rec.Id, (cur) => {
    if (cur.State.Status === 'running' && cur.State.Pid === rec.State.Pid) cur.State.Paused = paused;
  });
}

/** `kill`: a signal (a name or a number; SIGKILL by default) to a running container. */
export function kill(c: ContainerContext, nameOrId: string, signal: string | number = 'SIGKILL'): ContainerRecord {
  const sig = dockerSignal(signal);
  let rec: ContainerRecord;
  try {
    rec = c.store.find(nameOrId);
  } catch (e) {
    if (e instanceof BerthError) throw new BerthError(e.kind, `Cannot kill container: ${nameOrId}: ${e.message}`, { cause: e });
    throw e;
  }
  if (rec.State.Status !== 'running') throw conflict(`Cannot kill container: ${nameOrId}: Container ${rec.Id} is not running`);
  c.store.patch(rec, { ManuallyStopped: true });
  signalContainer(c, rec, sig);
  return rec;
}

/** `pause`: freezes every process of a running container (its cgroup's freezer). */
export function pause(c: ContainerContext, nameOrId: string): void {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
  if (rec.State.Paused) throw conflict(`Container ${rec.Id} is already paused`);
  c.runtime.pause(rec.Id);
  setPaused(c, rec, true);
}

/** `unpause`: thaws a paused container. */
export function unpause(c: ContainerContext, nameOrId: string): void {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status !== 'running' || !rec.State.Paused) throw conflict(`Container ${rec.Id} is not paused`);
  c.runtime.resume(rec.Id);
  setPaused(c, rec, false);
}

/** Waits until the container is not running (a created one: at once); returns its exit code. */
export async function wait(c: ContainerContext, nameOrId: string): Promise<number> {
  for (;;) {
    const rec = c.store.find(nameOrId);
    if (rec.State.Status !== 'running') return rec.State.ExitCode;
    await sleep(50);
  }
}

export interface StopOptions {
  /** The signal to stop it with (a name or a number); default: the container's stop signal (SIGTERM). */
  signal?: string | number;
  /** Seconds until SIGKILL (-1: never); default: the container's stop timeout (10). */
  timeout?: number;
}

/**
 * `stop`: the stop signal, then SIGKILL after the timeout. A container that is not running is
 * left as it is (no error, as Docker's).
 */
export async function stop(c: ContainerContext, nameOrId: string, o: StopOptions = {}): Promise<void> {
  const rec = c.store.find(nameOrId);
  const sig = dockerSignal(o.signal ?? rec.StopSignal ?? 'SIGTERM');
  const timeout = o.timeout ?? rec.StopTimeout ?? 10;
  // Also when it is between two runs of its restart policy: it must not come back.
  c.store.patch(rec, { ManuallyStopped: true, State: { ...rec.State, Restarting: false } });
  if (rec.State.Status !== 'running') return;
  signalContainer(c, rec, sig);
  const deadline = timeout < 0 ? Infinity : Date.now() + timeout * 1000;
  while (Date.now() < deadline && c.store.find(rec.Id).State.Status === 'running') await sleep(50);
  const now = c.store.find(rec.Id);
  if (now.State.Status === 'running') signalContainer(c, now, 9);
  await wait(c, rec.Id);
}

/** `restart`: stop (when it runs), then start. */
export async function restart(c: ContainerContext, nameOrId: string, o: StopOptions = {}): Promise<void> {
  c.store.find(nameOrId);
  try {
    await stop(c, nameOrId, o);
    await start(c, nameOrId);
  } catch (e) {
    // dockerd's words: "Cannot restart container NAME: REASON".
    throw e instanceof BerthError ? new BerthError(e.kind, `Cannot restart container ${nameOrId}: ${e.message}`, { cause: e, exitCode: e.exitCode }) : e;
  }
}

/** `rm`: removes a stopped container (a running one with force). */
export async function remove(c: ContainerContext, nameOrId: string, force = false, removeVolumes = false): Promise<string> {
  const rec = c.store.find(nameOrId);
  if (rec.State.Status === 'running') {
    if (!force && rec.State.Paused) throw conflict(`You cannot remove a paused container ${rec.Id}. Unpause and then stop the container before attempting removal or force remove`);
    if (!force) throw conflict(`You cannot remove a running container ${rec.Id}. Stop the container before attempting removal or force remove`);
    signalContainer(c, rec, 9);
    for (let i = 0; i < 500 && processAlive(rec.State.Pid); i++) await sleep(10);
  }
  for (let i = 0; i < 100 && c.runtime.exists(rec.Id) && processAlive(rec.State.Pid); i++) await sleep(10);
  // Processes killed a moment ago may still be leaving the cgroup (a loaded host): tried again a
  // few times; what still stands then is an orphan the next rm or prune sweeps.
  for (let i = 0; i < 5 && c.runtime.exists(rec.Id); i++) {
    if (i > 0) await sleep(100 * i);
    await c.runtime.delete(rec.Id, true).catch(() => {});
  }
  if (rec.NetworkSettings) {
    const net = await c.networks();
    net.down(rec.Id);
    net.release(rec.Id);
  }
  if (rec.IdShift) await c.unmountRootfs(rec.Id);
  try {
    c.images.snapshots.remove(rec.Id);
  } catch {
    /* already gone */
  }
  rmSync(c.bundleDir(rec.Id), { recursive: true, force: true });
  rmSync(c.logDir(rec.Id), { recursive: true, force: true });
  c.store.remove(rec);
  await releaseVolumes(c, rec);
  await sweepOrphans(c);
  if (removeVolumes) {
    for (const m of rec.Mounts ?? []) {
      if (m.Type === 'volume' && m.Anonymous && c.store.volumeUsers(m.Name!).length === 0) {
        try {
          c.volumes.remove(m.Name!);
        } catch {
          /* already gone */
        }
      }
    }
  }
  return rec.Id;
}

/** `container prune`: removes every container that is not running. */
export async function prune(c: ContainerContext): Promise<string[]> {
  const gone: string[] = [];
  for (const r of c.store.list()) {
    if (r.State.Status === 'running') continue;
    await remove(c, r.Id);
    gone.push(r.Id);
  }
  // What killed commands left (a run or rm killed half-way), also when no container is removed.
  await sweepOrphans(c);
  return gone;
}
