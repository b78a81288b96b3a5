/**
 * The OCI runtime as the engine offers it to front ends: containers at the OCI level, by id under a
 * state root, from a bundle (what `berth-runtime` does, as runc does), and the starter bundle (a
 * busybox rootfs and a default config.json) for trying berth without any image.
 */
import type { Process, Spec, State } from '../oci/runtime-spec.js';
import { Runtime, defaultSpec as runtimeDefaultSpec, makeBusyboxRootfs as runtimeBusyboxRootfs, type ContainerInfo, type CreateOptions, type ExecOptions, type ExitStatus, type RunOptions } from '../runtime/index.js';

/** `create`: the bundle, pid file, console socket, pivot_root or not, fds passed on. */
export type BundleCreateOptions = Pick<CreateOptions, 'bundle' | 'pidFile' | 'consoleSocket' | 'noPivot' | 'extraFds'>;
/** `run`: create's options, the container's pid once it runs, and whether to keep its state after. */
export type BundleRunOptions = BundleCreateOptions & Pick<RunOptions, 'onStart' | 'keep'>;
/** `exec`: the process, detached or waited for, pid file, console socket, fds passed on. */
export type BundleExecOptions = Pick<ExecOptions, 'process' | 'detach' | 'pidFile' | 'consoleSocket' | 'extraFds' | 'onStart'>;
/** A process's end: its exit code (128+N when killed by signal N) and whether the OOM killer did it. */
export type BundleExitStatus = ExitStatus;
/** A container in `list`: its OCI state, created time and owner. */
export type BundleContainerInfo = ContainerInfo;

/** Containers from bundles, under one state root (`--root`; BERTH_RUNTIME_ROOT or berth's default). */
export class RuntimeService {
  private readonly rt: Runtime;
  constructor(opts: { root?: string } = {}) {
    this.rt = new Runtime(opts);
  }
  /** Creates the container; it waits for `start`. Returns its pid. */
  create(id: string, o: BundleCreateOptions): Promise<number> {
    return this.rt.create(id, o);
  }
  start(id: string): Promise<{ warnings: string[] }> {
    return this.rt.start(id);
  }
  /** Creates, starts and waits for the container, then deletes it (unless `keep`). */
  run(id: string, o: BundleRunOptions): Promise<BundleExitStatus> {
    return this.rt.run(id, o);
  }
  exec(id: string, o: BundleExecOptions): Promise<BundleExitStatus & { pid: number }> {
    return this.rt.exec(id, o);
  }
  state(id: string): State {
    return this.rt.state(id);
  }
  list(): BundleContainerInfo[] {
    return this.rt.list();
  }
  exists(id: string): boolean {
    return this.rt.exists(id);
  }
  /** The process of the container's config.json (what `exec` starts from without a process.json). */
  process(id: string): Process | undefined {
    return this.rt.store.read(id).spec.process;
  }
  kill(id: string, signal: NodeJS.Signals | number, all: boolean): void {
    this.rt.kill(id, signal, all);
  }
  delete(id: string, force: boolean): Promise<{ warnings: string[] }> {
    return this.rt.delete(id, force);
  }
  pause(id: string): void {
    this.rt.pause(id);
  }
  resume(id: string): void {
    this.rt.resume(id);
  }
  /** The pids of the container's processes. */
  ps(id: string): number[] {
    return this.rt.ps(id);
  }
}

/** The default config.json (the shape `runc spec` gives): `args` (sh by default), rootless or not. */
export function defaultSpec(opts: { args?: string[]; rootless?: boolean } = {}): Spec {
  return runtimeDefaultSpec(opts);
}

/** Writes the starter root file system into `dir`: the host's static busybox and a link per applet. */
export function makeBusyboxRootfs(dir: string): void {
  runtimeBusyboxRootfs(dir);
}
