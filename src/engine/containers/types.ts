/** The container record as berth keeps it (metadata/containers/ID.json), and the options of create and run. */
import type { Readable, Writable } from 'node:stream';
import type { ContainerOptions, VolumeSpec } from '../container-spec.js';
import type { ContainerConfig, HealthConfig, HostConfig, RestartPolicy } from '../models.js';
import type { PortMapping } from '../../network/index.js';
import type { NetworkSettings } from '../networks.js';

export interface ContainerRecord {
  Id: string;
  Name: string;
  Image: string;
  ImageID: string;
  Command: string[];
  Created: string;
  State: ContainerState;
  AutoRemove: boolean;
  Detached?: boolean;
  LogPath?: string;
  StopSignal?: string;
  StopTimeout?: number;
  Mounts?: MountRecord[];
  RestartPolicy?: { Name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; MaximumRetryCount: number };
  RestartCount?: number;
  /** Set by stop/kill, cleared by start: a stopped container is not restarted by its policy. */
  ManuallyStopped?: boolean;
  Healthcheck?: { Test: string[]; IntervalMs: number; TimeoutMs: number; Retries: number; StartPeriodMs: number };
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
  /** --network as given (none, host, container:NAME, or a network's name). */
  NetworkMode?: string;
  /** Containers on networks: endpoints, published ports (as asked; `PortsUp`: as taken at start). */
  NetworkSettings?: NetworkSettings;
  PortsUp?: NetworkSettings['Ports'];
  /** Docker's Config.ExposedPorts keys ("80/tcp"): the image's and --expose's, as at create. */
  ExposedPorts?: string[];
  /** Which start set its network up (cleanup tears down only that one). */
  NetToken?: string;
  /** -t: a terminal (held by the monitor when detached). */
  Tty?: boolean;
  /** -i: stdin kept open (to attach to, when detached). */
  OpenStdin?: boolean;
  /** --link, as Docker's HostConfig.Links: "/db:/web/webdb" */
  Links?: string[];
  /** --userns=remap: the host ids the container's 0.. are (its layers are owned so). */
  IdShift?: { uid: number; gid: number; size: number };
  /** Config as dockerd keeps it: the request's merged with the image's (containers/config.ts). */
  Config?: ContainerConfig;
  /** HostConfig as dockerd keeps it: the request's with the daemon's defaults. */
  HostConfig?: HostConfig;
}

/**
 * Where a container is in its life, as Docker's State keeps it: Status is created, running or
 * exited; a running one may be Paused (its cgroup frozen) and an exited one Restarting (its
 * restart policy is about to start it again). Docker's State.Status says "paused" and
 * "restarting" for those (`dockerStatus`).
 */
export interface ContainerState {
  Status: 'created' | 'running' | 'exited';
  Paused?: boolean;
  Restarting?: boolean;
  ExitCode: number;
  /** Why its last start failed (Docker's State.Error); cleared by a start that succeeds. */
  Error?: string;
  Pid: number;
  /** Go's RFC 3339 (nanoseconds); empty: never. */
  StartedAt: string;
  FinishedAt: string;
  OOMKilled: boolean;
  MonitorPid?: number;
}

/** Docker's State.Status of a container: created, running, paused, restarting or exited. */
export function dockerStatus(st: ContainerState): 'created' | 'running' | 'paused' | 'restarting' | 'exited' {
  if (st.Status === 'running' && st.Paused) return 'paused';
  if (st.Status !== 'running' && st.Restarting) return 'restarting';
  return st.Status;
}

export interface MountRecord {
  Type: 'bind' | 'volume';
  Name?: string;
  Source: string;
  Destination: string;
  RW: boolean;
  Anonymous?: boolean;
  NoCopy?: boolean;
  /** The options as given after the paths (-v's "ro", "ro,rshared"; "z" for a --mount volume), as inspect shows them. */
  Mode?: string;
  /** A bind's propagation (rprivate unless given). */
  Propagation?: string;
}

export interface LogRecord {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

/**
 * What create needs, structured: made from a ContainerCreateRequest in one place
 * (containers/request.ts), never from flag strings.
 */
export interface CreateOptions extends ContainerOptions {
  /** The request's Config and HostConfig as sent: what the record keeps (merged, defaults filled). */
  config?: ContainerConfig;
  hostConfig?: HostConfig;
  /** --group-add: groups (names or gids of the image's /etc/group) the process also has. */
  groupAdd?: string[];
  /** Binds (-v syntax, parsed), anonymous Volumes and Mounts of the request: binds and volumes, in that order. */
  volumes?: VolumeSpec[];
  /** "container[:ro|rw]" */
  volumesFrom?: string[];
  /** `run -d --rm`: removed (with its anonymous volumes) by its monitor's cleanup when it ends. */
  autoRemove?: boolean;
  /** Config.Healthcheck (nanoseconds) over the image's; Test ["NONE"] turns the image's off. */
  health?: HealthConfig;
  restart?: RestartPolicy;
  /** `--init` */
  withInit?: boolean;
  /** PortBindings: the ports asked (host port 0: any free one). */
  ports?: PortMapping[];
  /** -P: the exposed ports (the image's and the request's) on free host ports. */
  publishAll?: boolean;
  /** Config.ExposedPorts ("80/tcp"), over the image's. */
  exposed?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** "name:ip" */
  addHost?: string[];
  networkAlias?: string[];
  /** --ip on a user-defined network */
  ip?: string;
  /** --mac-address: of the container's interface on its (first) network */
  macAddress?: string;
  /** --link NAME[:ALIAS] (Docker's legacy links): /etc/hosts entries and environment variables */
  link?: string[];
  /** -i: its stdin kept open. */
  interactive?: boolean;
  /** Config.AttachStdin/AttachStdout/AttachStderr as asked (kept in the container's config). */
  attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
}

/** A terminal's size (read when it starts, and again once it runs), and where its later sizes come from (a subscription; it returns its end). */
export interface TerminalSize {
  rows: number;
  cols: number;
  onResize?(listener: (rows: number, cols: number) => void): () => void;
}

/**
 * A container's (or an exec'd process's) stdio: the caller's streams, never this process's own
 * (the CLI passes its stdin/stdout/stderr, an API server a hijacked connection: one duplex as all
 * three). No stdin: none (/dev/null). A stream with an fd of its own (a file, a terminal, a pipe
 * of this process) is passed down as that fd, anything else is relayed. With a terminal, stdout
 * gets the terminal's output and stderr nothing, and `terminal` gives its size.
 */
export interface ContainerStdio {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  terminal?: TerminalSize;
}

export interface RunOptions extends CreateOptions {
  rm?: boolean;
  detach?: boolean;
  /** Not detached: the container's stdio (none: all /dev/null). */
  stdio?: ContainerStdio;
  onStart?: (pid: number) => void;
  /** Told the id once it is created, before it starts. */
  onCreate?: (id: string) => void;
}

