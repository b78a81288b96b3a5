/**
 * Listing containers (`ps`, the API's GET /containers/json) as dockerd does it: which ones (running
 * only, unless `all`, a limit or a status= filter is given), newest first, and each as Docker's
 * ContainerSummary (models.ts), its STATUS text included.
 *
 * Filters (values of one key are alternatives, keys must all hold, label= values must all hold):
 * id (a unique id prefix), name (a regular expression, on the name with and without its slash),
 * label (KEY or KEY=VALUE), exited (an exit code of a container that ran), status (created,
 * restarting, running, removing, paused, exited, dead), health (starting, healthy, unhealthy,
 * none), ancestor (an image, by reference or id), before and since (a container), volume (a
 * volume's name, a bind's source or a mount's destination), network (a network's name or id
 * prefix), publish (a published host port[/proto] or range), expose (a container port[/proto] or
 * range), isolation (any value: Linux has only the default), is-task (true or false: no container
 * here is a swarm task).
 */
import { invalidArgument, notFound } from '../lib/errors.js';
import { humanDuration } from '../lib/units.js';
import type { ContainerRecord, ContainerService } from './containers.js';
import { filterMap, labelMatches, regexMatch, type Filters } from './filters.js';
import type { ImageService } from './images.js';
import type { ContainerStatus, ContainerSummary, EndpointSettings, MountPoint } from './models.js';

export type { ContainerSummary } from './models.js';

export interface ContainerListQuery {
  /** Stopped and created containers too. */
  all?: boolean;
  /** The N newest, of every state (Docker's `limit`: `ps -n N`; `ps -l` is 1); 0 or less: no limit. */
  limit?: number;
  /** SizeRw and SizeRootFs (`ps -s`). */
  size?: boolean;
  filters?: Filters;
}

export type PortRecord = NonNullable<ContainerRecord['PortsUp']>[number];

const PS_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'];
const STATES: readonly string[] = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** What listing needs of the other services. */
export interface ListSources {
  containers: ContainerService;
  images: ImageService;
}

/** publish= and expose= values: PORT[/PROTO] or START-END[/PROTO] → "80/tcp" keys. */
function portSet(key: string, values: string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes(':')) throw invalidArgument(`filter for '${key}' should not contain ':': ${v}`);
    const [port = '', proto = 'tcp'] = v.split('/', 2);
    const [a = '', b = a] = port.split('-', 2);
    const num = (s: string) => {
      if (!/^\d+$/.test(s) || Number(s) > 65535) throw invalidArgument(`error while looking up for ${key} ${v}: strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
      return Number(s);
    };
    const start = num(a);
    const end = num(b);
    if (end < start) throw invalidArgument(`error while looking up for ${key} ${v}: invalid range specified for port: ${port}`);
    for (let p = start; p <= end; p++) out.add(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/** The state word Docker gives: paused is a running container that is frozen. */
function stateOf(c: ContainerRecord): ContainerStatus {
  const st = c.State;
  if (st.Status === 'running') return (st as { Paused?: boolean }).Paused === true ? 'paused' : 'running';
  return st.Status;
}

/** Docker's STATUS text: "Up 5 minutes (healthy)", "Up 3 seconds (Paused)", "Exited (0) 2 hours ago", "Created". */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const st = c.State;
  const since = (t: string) => humanDuration(now - Date.parse(t));
  const state = stateOf(c);
  if (state === 'paused') return `Up ${since(st.StartedAt)} (Paused)`;
  if (state === 'running') {
    const h = c.Health;
    return h ? `Up ${since(st.StartedAt)} (${h.Status === 'starting' ? 'health: starting' : h.Status})` : `Up ${since(st.StartedAt)}`;
  }
  if (!st.StartedAt) return 'Created';
  if (!st.FinishedAt) return '';
  return `Exited (${st.ExitCode}) ${since(st.FinishedAt)} ago`;
}

/** Docker's Command: the path, then the arguments, each with a space quoted in single quotes. */
function commandOf(args: readonly string[]): string {
  if (args.length === 0) return '';
  return [args[0]!, ...args.slice(1).map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}

/** The containers the query asks for, newest first. */
/**
 * `ps`: the containers the query asks for, in Docker's shape. With `size`, `rwSizes` holds each
 * container's own layer size (read through a rooted session by the caller: the container controls that tree).
 */
export function listContainers(src: ListSources, q: ContainerListQuery = {}, rwSizes: ReadonlyMap<string, number> = new Map()): ContainerSummary[] {
  const svc = src.containers;
  // As dockerd checks them: the keys, then each key's values, in this order.
  const f = filterMap(q.filters, PS_FILTERS);
  const exited = (f.get('exited') ?? []).map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw invalidArgument(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  });
  let all = q.all === true;
  for (const v of f.get('status') ?? []) {
    if (!STATES.includes(v)) throw invalidArgument(`Invalid filter 'status=${v}'`);
    all = true;
  }
  for (const v of f.get('health') ?? []) if (!HEALTH.includes(v)) throw invalidArgument(`Unrecognised filter value for health: ${v}`);
  const task = f.get('is-task');
  if (task && task.some((v) => v !== 'true' && v !== 'false')) throw invalidArgument(`Invalid filter 'is-task=[${task.join(' ')}]'`);
  const records = svc.list().sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (a.Id < b.Id ? -1 : 1));
  const byRef = (what: string, v: string) => {
    try {
      return svc.find(v).Id;
    } catch {
      throw notFound(`no such container ${v}`, { cause: what });
    }
  };
  let before = f.get('before')?.map((v) => byRef('before', v)).at(-1);
  const since = f.get('since')?.map((v) => byRef('since', v)).at(-1);
  const ancestors = f.has('ancestor') ? new Set(f.get('ancestor')!.flatMap((v) => imageIdOf(src.images, v))) : undefined;
  const publish = f.has('publish') ? portSet('publish', f.get('publish')!) : undefined;
  const expose = f.has('expose') ? portSet('expose', f.get('expose')!) : undefined;
  // id= is a unique prefix of an id (dockerd's index); name= a pattern on the names.
  const ids = f.get('id');
  const idMatches = ids ? new Set(ids.flatMap((p) => {
    const m = p ? records.filter((c) => c.Id.startsWith(p)) : [];
    return m.length === 1 ? [m[0]!.Id] : [];
  })) : undefined;
  const names = f.get('name');
  const limit = q.limit !== undefined && q.limit > 0 ? q.limit : 0;

  const out: ContainerSummary[] = [];
  for (const c of records) {
    if (before !== undefined) {
      if (c.Id === before) before = undefined;
      continue;
    }
    if (since !== undefined && c.Id === since) break;
    const state = stateOf(c);
    const running = state === 'running' || state === 'paused';
    if (!running && !all && limit === 0) continue;
    if (idMatches && !idMatches.has(c.Id)) continue;
    if (names && !names.some((n) => regexMatch(n, '/' + c.Name) || regexMatch(n, c.Name))) continue;
    if (task && !task.includes('false')) continue;
    const info = svc.inspect(c.Id);
    const labels = (info.Config.Labels ?? {}) as Record<string, string>;
    if (f.has('label') && !f.get('label')!.every((v) => labelMatches(labels, v))) continue;
    if (limit > 0 && out.length === limit) break;
    if (exited.length && !(state === 'exited' && c.State.StartedAt && exited.includes(c.State.ExitCode))) continue;
    if (f.has('status') && !f.get('status')!.includes(state)) continue;
    if (f.has('health') && !f.get('health')!.includes(c.Health?.Status ?? 'none')) continue;
    const mounts: MountPoint[] = info.Mounts.map((m) => ({ ...m, Driver: m.Type === 'volume' ? 'local' : undefined, Mode: '', Propagation: m.Type === 'bind' ? 'rprivate' : '' }));
    if (f.has('volume') && !f.get('volume')!.some((v) => mounts.some((m) => m.Destination === v || (m.Name ?? m.Source) === v))) continue;
    if (ancestors && !ancestors.has(c.ImageID)) continue;
    const networks = (info.NetworkSettings.Networks ?? {}) as Record<string, EndpointSettings>;
    const mode = c.NetworkMode ?? 'bridge';
    const netNames = Object.keys(networks).length ? networks : mode === 'none' || mode === 'host' ? { [mode]: {} as EndpointSettings } : {};
    if (f.has('network') && !f.get('network')!.some((v) => Object.hasOwn(netNames, v) || Object.values(netNames).some((e) => e.NetworkID?.startsWith(v)))) continue;
    const ports = portsOf(c, running);
    if (publish && !ports.some((p) => p.PublicPort !== undefined && publish.has(`${p.PublicPort}/${p.Type}`))) continue;
    if (expose && !ports.some((p) => expose.has(`${p.PrivatePort}/${p.Type}`))) continue;
    out.push({
      Id: c.Id,
      Names: ['/' + c.Name],
      Image: imageShown(src.images, c),
      ImageID: c.ImageID,
      Command: commandOf(c.Command),
      Created: Math.floor(Date.parse(c.Created) / 1000),
      Ports: ports,
      ...(q.size ? sizesOf(src.images, c, rwSizes.get(c.Id) ?? 0) : {}),
      Labels: labels,
      State: state,
      Status: statusText(c),
      HostConfig: { NetworkMode: mode },
      NetworkSettings: { Networks: netNames },
      Mounts: mounts,
    });
  }
  return out;
}

/** The image ids a reference or id names (none when it names no image: Docker's ancestor= then matches nothing). */
function imageIdOf(images: ImageService, ref: string): string[] {
  try {
    return [images.resolve(ref).id];
  } catch {
    return [];
  }
}

/** The image as given at create while it still names the container's image; its id otherwise (Docker's rule). */
function imageShown(images: ImageService, c: ContainerRecord): string {
  if (c.Image === c.ImageID) return c.Image;
  return imageIdOf(images, c.Image)[0] === c.ImageID ? c.Image : c.ImageID;
}

/** The published ports of a running container, and the ports it exposes without publishing them. */
function portsOf(c: ContainerRecord, running: boolean): ContainerSummary['Ports'] {
  if (!running) return [];
  const up = c.PortsUp ?? [];
  const ports: ContainerSummary['Ports'] = up.map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
  for (const e of c.ExposedPorts ?? []) {
    const [port = '', proto = 'tcp'] = e.split('/');
    const n = Number(port);
    if (Number.isInteger(n) && n > 0 && !up.some((p) => p.containerPort === n && p.proto === proto)) ports.push({ PrivatePort: n, Type: proto as 'tcp' | 'udp' });
  }
  return ports;
}

/** SizeRw (the container's own layer) and SizeRootFs (its image's layers and its own). */
function sizesOf(images: ImageService, c: ContainerRecord, rw: number): { SizeRw: number; SizeRootFs: number } {
  let base = 0;
  try {
    base = images.inspect(c.ImageID).Size;
  } catch {
    /* the image is gone (rmi -f) */
  }
  return { SizeRw: rw, SizeRootFs: base + rw };
}
