/**
 * Request and record models in the Docker Engine API's shapes (API v1.47, moby's swagger.yaml):
 * what `berth run`'s flags turn into, what the API server decodes from a request body, what
 * compose builds from a service, and what `inspect` returns. Pure data: numbers in bytes,
 * nano-CPUs and nanoseconds, field names as Docker spells them. A field left out (or zero, empty,
 * null) means "not set": the image's or the engine's default applies, as in Docker.
 *
 * The parsers of Docker's flag and compose syntax into these shapes are in models-parse.ts.
 */

// ---------------------------------------------------------------------------------------------
// Containers: create

/** "80/tcp", "53/udp": a container port and its protocol. */
export type PortProto = string;

/** One host address a container port is published on. */
export interface PortBinding {
  /** '' (or absent): every address of the host. */
  HostIp?: string;
  /** A port, a range ("8000-8010": any free one of them), or '' for a random one; a string, as Docker has it. */
  HostPort?: string;
}

/** {"80/tcp": [{HostIp, HostPort}]}: a container port's bindings (null: exposed, not published). */
export type PortMap = Record<PortProto, PortBinding[] | null>;

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  /** '' or absent: no. */
  Name?: RestartPolicyName | '';
  /** on-failure only: at most this many restarts (0: no limit). */
  MaximumRetryCount?: number;
}

/** A container's health check, durations in nanoseconds (0: the image's, else Docker's default). */
export interface HealthConfig {
  /**
   * [] or absent: the image's; ["NONE"]: none; ["CMD", args...]: exec; ["CMD-SHELL", command]:
   * run with the container's shell.
   */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  /** Failures in a row that make it unhealthy (0: the image's, else 3). */
  Retries?: number;
  StartPeriod?: number;
  /** Time between checks during the start period (API 1.44+). */
  StartInterval?: number;
}

/** Config: the part of a container that does not depend on the host (a create body's top level). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  /** {"80/tcp": {}} */
  ExposedPorts?: Record<PortProto, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  /** Close stdin after the one attached client detaches. */
  StdinOnce?: boolean;
  /** "NAME=value"; a bare "NAME" removes NAME from the image's environment. */
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean | null;
  Image?: string;
  /** Anonymous volumes: {"/data": {}}. */
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  /** [""]: no entrypoint (the image's is dropped). */
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean | null;
  /** Deprecated since API 1.44: the endpoint's MacAddress is used instead. */
  MacAddress?: string | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string | null;
  /** Seconds from the stop signal to SIGKILL. */
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'image' | 'npipe' | 'cluster';
export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/** HostConfig.Mounts[]: --mount, structured. */
export interface Mount {
  /** Path in the container. */
  Target?: string;
  /** bind: a host path; volume: a volume name (absent: a new anonymous volume). */
  Source?: string;
  Type?: MountType;
  ReadOnly?: boolean;
  Consistency?: 'default' | 'consistent' | 'cached' | 'delegated' | string;
  BindOptions?: {
    Propagation?: Propagation;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  } | null;
  VolumeOptions?: {
    /** Do not seed a new volume with the image's files at Target. */
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
    Subpath?: string;
  } | null;
  TmpfsOptions?: {
    SizeBytes?: number;
    /** File mode (a number: 0o1777 is 1023). */
    Mode?: number;
    Options?: string[][];
  } | null;
}

/** --device /dev/x:/dev/y:rwm */
export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  /** Some of r, w, m. */
  CgroupPermissions?: string;
}

/** --device-read-bps and friends: a rate (bytes or operations per second) for a device. */
export interface ThrottleDevice {
  Path?: string;
  Rate?: number;
}

export interface WeightDevice {
  Path?: string;
  Weight?: number;
}

/** --ulimit nofile=1024:2048; -1 is unlimited. */
export interface Ulimit {
  Name?: string;
  Soft?: number;
  Hard?: number;
}

export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[];
  Capabilities?: string[][];
  Options?: Record<string, string>;
}

export interface LogConfig {
  /** json-file, local, none, ...; '' the daemon's default. */
  Type?: string;
  Config?: Record<string, string>;
}

/** A container's resources: the cgroup settings (HostConfig holds them too; `update` takes them). */
export interface Resources {
  /** Relative CPU weight (cpu.shares). */
  CpuShares?: number;
  /** Bytes (0: no limit). */
  Memory?: number;
  CgroupParent?: string;
  /** 10 to 1000 (0: not set). */
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  /** Microseconds. */
  CpuPeriod?: number;
  /** Microseconds per period. */
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  /** "0-3", "0,1" */
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: DeviceRequest[] | null;
  /** Bytes. */
  MemoryReservation?: number;
  /** Memory plus swap, bytes; -1: unlimited swap. */
  MemorySwap?: number;
  /** 0 to 100; -1: the host's. */
  MemorySwappiness?: number | null;
  /** CPUs in units of 1e-9 (1.5 CPUs: 1500000000). */
  NanoCpus?: number;
  OomKillDisable?: boolean | null;
  /** An init as PID 1 (--init). */
  Init?: boolean | null;
  /** 0 or -1: unlimited. */
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
}

/** HostConfig: the part of a container that depends on the host. */
export interface HostConfig extends Resources {
  /** -v: "/host:/ctr[:opts]", "volume:/ctr[:opts]". */
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: LogConfig;
  /** default (bridge on Linux), bridge, host, none, container:NAME|ID, or a network's name. */
  NetworkMode?: string;
  PortBindings?: PortMap | null;
  RestartPolicy?: RestartPolicy;
  /** --rm */
  AutoRemove?: boolean;
  VolumeDriver?: string;
  /** "container[:ro|rw]" */
  VolumesFrom?: string[] | null;
  Mounts?: Mount[] | null;
  /** [height, width] of the terminal */
  ConsoleSize?: [number, number] | null;
  Annotations?: Record<string, string> | null;
  /** "CAP_NET_ADMIN", or "ALL" */
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: '' | 'private' | 'host';
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  /** "name:ip" (ip may be host-gateway) */
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  /** '', none, private, shareable, host, container:NAME|ID */
  IpcMode?: string;
  Cgroup?: string;
  /** --link "name:alias" (inspect shows "/name:/self/alias") */
  Links?: string[] | null;
  OomScoreAdj?: number;
  /** '', host, container:NAME|ID */
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  /** "no-new-privileges", "seccomp=unconfined", "seccomp=<profile JSON>", "apparmor=..." */
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  /** --tmpfs: {"/run": "size=64m,mode=1777"} */
  Tmpfs?: Record<string, string> | null;
  /** '' or host */
  UTSMode?: string;
  /** '' or host (berth also takes remap) */
  UsernsMode?: string;
  /** /dev/shm, bytes */
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: '' | 'default' | 'process' | 'hyperv';
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

export interface EndpointIPAMConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
}

/** A container's endpoint on one network: asked for at create/connect, filled in by the engine. */
export interface EndpointSettings {
  IPAMConfig?: EndpointIPAMConfig | null;
  Links?: string[] | null;
  MacAddress?: string;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  /** Which endpoint's gateway is the default route (API 1.48; docker 28 sends it always). */
  GwPriority?: number;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DNSNames?: string[] | null;
}

export interface NetworkingConfig {
  /** Network name (or "default") → the endpoint asked for. */
  EndpointsConfig?: Record<string, EndpointSettings> | null;
}

/** `POST /containers/create?name=..&platform=..`, and what `run`/`create` pass to the engine. */
export interface ContainerCreateRequest {
  /** The container's name ([a-zA-Z0-9][a-zA-Z0-9_.-]*); absent: a generated one. */
  name?: string;
  /** os[/arch[/variant]] of the image to use. */
  platform?: string;
  /** `--pull`: pull the image first (always), when it is not here (missing, the default), or never. */
  pull?: 'always' | 'missing' | 'never';
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkingConfig: NetworkingConfig;
}

/** The JSON body of `POST /containers/create`: Config with HostConfig and NetworkingConfig inside. */
export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[];
}

/** A create body (and the query's name and platform) as a request. */
export function containerCreateRequestFromBody(body: ContainerCreateBody, query: { name?: string; platform?: string } = {}): ContainerCreateRequest {
  const { HostConfig: hostConfig, NetworkingConfig: networking, ...config } = body;
  return {
    ...(query.name ? { name: query.name } : {}),
    ...(query.platform ? { platform: query.platform } : {}),
    Config: config,
    HostConfig: hostConfig ?? {},
    NetworkingConfig: networking ?? {},
  };
}

/** A request as the body a client sends (name and platform go in the query). */
export function containerCreateBody(req: ContainerCreateRequest): ContainerCreateBody {
  return { ...req.Config, HostConfig: req.HostConfig, NetworkingConfig: req.NetworkingConfig };
}

// ---------------------------------------------------------------------------------------------
// Containers: inspect

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthcheckResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface Health {
  Status: 'none' | 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthcheckResult[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting?: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error?: string;
  /** RFC 3339 with nanoseconds; "0001-01-01T00:00:00Z" when never. */
  StartedAt: string;
  FinishedAt: string;
  Health?: Health;
}

/** A mount as inspect (and `ps`) show it. */
export interface MountPoint {
  Type: MountType;
  /** The volume's name (volumes only). */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  /** The options as given ("ro", "z", ...). */
  Mode?: string;
  RW: boolean;
  Propagation?: Propagation | '';
}

export interface GraphDriverData {
  Name: string;
  Data: Record<string, string>;
}

/** NetworkSettings of inspect: the endpoints and the ports taken. */
export interface NetworkSettings {
  Bridge: string;
  SandboxID?: string;
  /** The network namespace's path while running, else ''. */
  SandboxKey: string;
  /** Ports as published at start ({"80/tcp": [{HostIp: "0.0.0.0", HostPort: "32768"}]}). */
  Ports: PortMap;
  HairpinMode?: boolean;
  LinkLocalIPv6Address?: string;
  LinkLocalIPv6PrefixLen?: number;
  SecondaryIPAddresses?: unknown;
  SecondaryIPv6Addresses?: unknown;
  /** The default network's endpoint, repeated at the top level (deprecated fields, still filled by Docker). */
  EndpointID?: string;
  Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  MacAddress?: string;
  Networks: Record<string, EndpointSettings>;
}

/**
 * `GET /containers/{id}/json`, `docker inspect CONTAINER`. The fields berth fills are required;
 * the rest of Docker's are optional.
 */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** The image's id (sha256:...). */
  Image: string;
  ResolvConfPath?: string;
  HostnamePath?: string;
  HostsPath?: string;
  LogPath: string;
  /** "/name" */
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform?: string;
  MountLabel?: string;
  ProcessLabel?: string;
  AppArmorProfile?: string;
  ExecIDs?: string[] | null;
  HostConfig: HostConfig;
  GraphDriver?: GraphDriverData;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: NetworkSettings;
  /** berth's: State.Health repeated at the top (not in Docker's API). */
  Health?: Health;
}

/** `GET /containers/json`: one row of `ps`. */
export interface ContainerSummary {
  Id: string;
  /** ["/name"] */
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: 'tcp' | 'udp' | 'sctp' }[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: ContainerStatus;
  /** "Up 5 minutes", "Exited (0) 2 hours ago" */
  Status: string;
  HostConfig: { NetworkMode: string; Annotations?: Record<string, string> };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

/** `POST /containers/{id}/wait` */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

/** `POST /containers/{id}/update`: the resources and the restart policy. */
export interface ContainerUpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy;
}

// ---------------------------------------------------------------------------------------------
// Exec

/** `POST /containers/{id}/exec` */
export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: [number, number] | null;
  DetachKeys?: string;
  Tty?: boolean;
  /** "NAME=value" */
  Env?: string[] | null;
  Cmd: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** `POST /exec/{id}/start` */
export interface ExecStartConfig {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

/** `GET /exec/{id}/json` */
export interface ExecInspect {
  CanRemove: boolean;
  DetachKeys: string;
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { privileged: boolean; user: string; tty: boolean; entrypoint: string; arguments: string[] };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  ContainerID: string;
  Pid: number;
}

// ---------------------------------------------------------------------------------------------
// Networks

export interface IPAMConfig {
  /** "172.20.0.0/16" */
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface IPAM {
  /** default */
  Driver?: string;
  Config?: IPAMConfig[];
  Options?: Record<string, string> | null;
}

/** `POST /networks/create` */
export interface NetworkCreateRequest {
  Name: string;
  /** bridge (the default) */
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string };
  IPAM?: IPAM;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

/** `POST /networks/{id}/connect` */
export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: EndpointSettings;
}

/** `POST /networks/{id}/disconnect` */
export interface NetworkDisconnectRequest {
  Container: string;
  Force?: boolean;
}

/** A container on a network, as the network's inspect lists it. */
export interface NetworkContainer {
  Name: string;
  EndpointID?: string;
  MacAddress: string;
  /** "172.17.0.2/16" */
  IPv4Address: string;
  IPv6Address: string;
  /** berth's: the container's aliases on the network, and whether it runs (not in Docker's API). */
  Aliases?: string[];
  Running?: boolean;
}

/** `GET /networks/{id}`, `docker network inspect`. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  /** local */
  Scope: string;
  Driver: string;
  EnableIPv4?: boolean;
  EnableIPv6: boolean;
  IPAM: IPAM;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom?: { Network: string };
  ConfigOnly?: boolean;
  /** Container id → its endpoint. */
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Volumes

/** `POST /volumes/create` */
export interface VolumeCreateRequest {
  /** Absent: a generated (anonymous-looking) name. */
  Name?: string;
  /** local */
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `GET /volumes/{name}`, `docker volume inspect`. */
export interface Volume {
  Name: string;
  Driver: string;
  /** Where its files are on the host. */
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string> | null;
  /** local */
  Scope: 'local' | 'global';
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
  /** berth's: made for one container (an unnamed -v, an image's VOLUME); `rm -v` removes it. */
  Anonymous?: boolean;
}

/** `GET /volumes` */
export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[];
}

/** `POST /volumes/prune`, `POST /containers/prune`, `POST /images/prune`: what went, and the bytes freed. */
export interface PruneResponse {
  VolumesDeleted?: string[];
  ContainersDeleted?: string[];
  ImagesDeleted?: ImageDeleteResponseItem[];
  NetworksDeleted?: string[];
  SpaceReclaimed?: number;
}

// ---------------------------------------------------------------------------------------------
// Images

/** An image's Config (the OCI image config's config, in Docker's names): a container's, less what only a container has. */
export type ImageConfig = Omit<ContainerConfig, 'NetworkDisabled' | 'MacAddress' | 'StopTimeout'>;

/** `GET /images/{name}/json`, `docker image inspect`. */
export interface ImageInspect {
  /** sha256:... of the config */
  Id: string;
  RepoTags: string[];
  /** "name@sha256:..." */
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  /** The container a commit was made of ('' for other images), and its config then. */
  Container?: string;
  ContainerConfig?: ContainerConfig;
  DockerVersion?: string;
  Author: string;
  Config: ImageConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  /** Bytes of its layers, unpacked. */
  Size: number;
  GraphDriver: GraphDriverData;
  RootFS: { Type: 'layers'; Layers: string[] };
  Metadata: { LastTagTime?: string };
  /** berth's: the manifest the image was stored from. */
  Manifest?: { Digest: string; MediaType: string };
}

/** `GET /images/json`: one row of `images`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  /** Unix seconds. */
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/** `POST /images/create?fromImage=..&tag=..&platform=..` (pull), or `fromSrc` (import). */
export interface ImagePullRequest {
  fromImage: string;
  tag?: string;
  platform?: string;
}

/** `POST /images/{name}/tag?repo=..&tag=..` */
export interface ImageTagRequest {
  source: string;
  repo: string;
  tag?: string;
}

/** `DELETE /images/{name}?force=..&noprune=..` */
export interface ImageRemoveRequest {
  name: string;
  force?: boolean;
  noprune?: boolean;
}

export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** `POST /commit?container=..&repo=..&tag=..&comment=..&author=..&pause=..&changes=..` */
export interface ContainerCommitRequest {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  /** Dockerfile instructions to apply (`-c`) */
  changes?: string[];
}

// ---------------------------------------------------------------------------------------------
// Builds

/** `POST /build`: the query parameters (the context comes as the body, a tar). */
export interface BuildRequest {
  /** Path of the Dockerfile in the context (Dockerfile) */
  dockerfile?: string;
  /** Names to tag the result with (`-t`, repeated). */
  t?: string[];
  /** "name:ip" lines for /etc/hosts of RUN steps */
  extrahosts?: string[];
  /** A URL of a git repository or a tarball to use as the context */
  remote?: string;
  /** Suppress the verbose build output */
  q?: boolean;
  nocache?: boolean;
  /** Images to consider as cache sources */
  cachefrom?: string[];
  /** Pull newer base images */
  pull?: boolean | string;
  /** Remove intermediate containers (true) */
  rm?: boolean;
  forcerm?: boolean;
  /** Bytes */
  memory?: number;
  /** Bytes, -1 unlimited */
  memswap?: number;
  cpushares?: number;
  cpusetcpus?: string;
  cpuperiod?: number;
  cpuquota?: number;
  /** ARG values (`--build-arg`) */
  buildargs?: Record<string, string>;
  /** Bytes of /dev/shm */
  shmsize?: number;
  squash?: boolean;
  labels?: Record<string, string>;
  /** RUN's network: default, host, none */
  networkmode?: string;
  platform?: string;
  /** The stage to build */
  target?: string;
  /** BuildKit exporters: [{type: "local", dest: ...}] */
  outputs?: { type: string; attrs?: Record<string, string> }[];
  /** 1: the classic builder, 2: BuildKit */
  version?: '1' | '2';
}
