/**
 * `create`: a container's name, network address, volumes, layer, bundle (spec and /etc files)
 * and record; nothing runs yet. Everything is checked before anything is made; what is made is
 * undone, in reverse, when a later step fails (one list of undo steps).
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '../../lib/builtins.js';
import { invalidArgument } from '../../lib/errors.js';
import { dockerSignal } from '../../lib/signal.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { helperPath } from '../../sys/paths.js';
import { secureJoin } from '../../sys/securejoin.js';
import { processUser } from '../../oci/user.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../runtime/index.js';
import { bindMount, buildSpec } from '../container-spec.js';
import { hostConfigDefaults, mergeConfig, type ImageRunConfig } from './config.js';
import type { NetworkService, NetworkSettings } from '../networks.js';
import { validName } from '../names.js';
import type { ContainerConfig } from '../../image/index.js';
import type { ContainerContext } from './context.js';
import { linkTo, writeEtcFiles, type LinkTarget } from './etc.js';
import { healthcheckOf, type ImageHealthcheck } from './health.js';
import { restartPolicyOf } from './restart.js';
import type { ContainerRecord, CreateOptions, MountRecord } from './types.js';

const ADJ = ['brave', 'calm', 'eager', 'fond', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'quiet', 'sharp', 'sunny', 'tidy', 'vivid', 'witty', 'zen'];
const NOUN = ['albatross', 'barge', 'buoy', 'canal', 'dinghy', 'ferry', 'harbor', 'jetty', 'keel', 'lighthouse', 'mooring', 'pier', 'quay', 'rudder', 'schooner', 'tug'];

/** A remapped container's id shift, as its spec's user namespace maps ids (buildSpec's --userns). */
function idShiftOf(spec: Spec): { IdShift: { uid: number; gid: number; size: number } } | Record<string, never> {
  const u = spec.linux?.uidMappings?.[0];
  const g = spec.linux?.gidMappings?.[0];
  return u && g ? { IdShift: { uid: u.hostID, gid: g.hostID, size: u.size } } : {};
}

/** Steps that undo what has been made so far, run in reverse (each one whatever the others do). */
class Undo {
  private readonly steps: (() => unknown)[] = [];
  push(step: () => unknown): void {
    this.steps.push(step);
  }
  run(): void {
    for (const step of this.steps.reverse()) {
      try {
        step();
      } catch {
        /* the failure that led here is the one reported */
      }
    }
  }
}

/** Binds, volumes and Mounts, `--volumes-from` and the image's VOLUMEs → the container's mounts (volumes made as needed). */
function resolveMounts(c: ContainerContext, o: CreateOptions, imageVolumes: string[]): { mounts: MountRecord[]; fresh: MountRecord[] } {
  const mounts: MountRecord[] = [];
  const fresh: MountRecord[] = [];
  const taken = (dst: string) => mounts.some((m) => m.Destination === dst);
  for (const p of o.volumes ?? []) {
    if (taken(p.destination)) throw invalidArgument(`Duplicate mount point: ${p.destination}`);
    if (p.kind === 'bind') {
      // A -v bind's missing source is made, as dockerd makes it (a --mount bind's is refused in request.ts).
      if (!existsSync(p.source!)) mkdirSync(p.source!, { recursive: true, mode: 0o755 });
      mounts.push({ Type: 'bind', Source: p.source!, Destination: p.destination, RW: !p.readOnly, Mode: p.mode ?? '', Propagation: p.propagation[0] ?? 'rprivate' });
      continue;
    }
    const existed = p.source !== undefined && c.volumes.get(p.source) !== undefined;
    const vol = c.volumes.create(p.source, { anonymous: p.source === undefined });
    const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: p.destination, RW: !p.readOnly, Anonymous: vol.Anonymous, Mode: p.mode ?? '' };
    mounts.push(m);
    if (p.noCopy) m.NoCopy = true;
    if (!existed || c.volumes.isEmpty(vol.Name)) fresh.push(m);
  }
  for (const from of o.volumesFrom ?? []) {
    const [name, mode] = from.split(':');
    const other = c.store.find(name!);
    // As dockerd copies them: the mode as given is not (Mode ''), the propagation is.
    for (const m of other.Mounts ?? []) if (!taken(m.Destination)) mounts.push({ ...m, RW: mode === 'ro' ? false : m.RW, Mode: '' });
  }
  for (const dst of imageVolumes) {
    if (taken(dst)) continue;
    const vol = c.volumes.create(undefined, { anonymous: true });
    const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: dst, RW: true, Anonymous: true, Mode: '' };
    mounts.push(m);
    fresh.push(m);
  }
  return { mounts, fresh };
}

/**
 * Files of a new container's root as its image has them (its layer is still empty): read from the
 * layers' directories, the top one first (a whiteout hides what is below); where a link is in the
 * way, read through the mounted snapshot instead.
 */
async function imageFiles(c: ContainerContext, id: string, paths: string[]): Promise<(string | undefined)[]> {
  const m = c.images.snapshots.mounts(id)[0];
  const opt = (k: string) => m?.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const dirs = !m ? [] : m.type === 'overlay' ? [opt('upperdir'), ...(opt('lowerdir') ?? '').split(':')].filter((d): d is string => !!d) : [m.source];
  let linked = false;
  const out = paths.map((p) => {
    for (const d of dirs) {
      let st;
      try {
        if (lstatSync(join(d, p.slice(0, p.lastIndexOf('/')))).isSymbolicLink()) linked = true;
        st = lstatSync(join(d, p));
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) linked = true;
      if (linked || (st.isCharacterDevice() && st.rdev === 0)) return undefined;
      try {
        return readFileSync(join(d, p), 'utf8');
      } catch {
        return undefined;
      }
    }
    return undefined;
  });
  if (!linked) return out;
  return c.images.withSnapshot(id, false, (dir) => paths.map((p) => {
    try {
      return readFileSync(secureJoin(dir, p), 'utf8');
    } catch {
      return undefined;
    }
  }));
}

interface NetworkPlan {
  net?: NetworkService;
  settings?: NetworkSettings;
  netId: string;
  links: LinkTarget[];
}

/** The network options checked (nothing made yet): the network, ports, links, --dns and --add-host. */
async function planNetwork(c: ContainerContext, o: CreateOptions, mode: string, cfg: Record<string, unknown>): Promise<NetworkPlan> {
  const bridged = !['none', 'host'].includes(mode) && !mode.startsWith('container:');
  if (bridged) {
    const net = await c.networks();
    const imageExposed = Object.keys((cfg.ExposedPorts as Record<string, unknown> | undefined) ?? {});
    const ports = net.parsePorts({ ports: o.ports, publishAll: o.publishAll, exposed: [...new Set([...imageExposed, ...(o.exposed ?? [])])] });
    const n = net.find(mode);
    if (o.ip !== undefined && n.Name === 'bridge') throw invalidArgument('user specified IP address is supported on user defined networks only');
    if (o.macAddress !== undefined) net.parseMac(o.macAddress);
    const links = (o.link ?? []).map((l) => linkTo(c, l, n.Name));
    if (o.networkAlias?.length && n.Name === 'bridge') throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
    const settings: NetworkSettings = { Networks: {}, Ports: ports, Dns: o.dns, DnsSearch: o.dnsSearch, DnsOptions: o.dnsOption, ExtraHosts: o.addHost };
    net.etcFiles(settings, 'x', ''); // validates --dns and --add-host
    return { net, settings, netId: n.Id, links };
  }
  if (mode.startsWith('container:')) {
    // dockerd's refusals for another container's network (before it looks that one up).
    if (o.hostname) throw invalidArgument('conflicting options: hostname and the network mode');
    if (o.dns?.length) throw invalidArgument('conflicting options: dns and the network mode');
    if (o.addHost?.length) throw invalidArgument('conflicting options: custom host-to-IP mapping and the network mode');
    if (o.ports?.length || o.publishAll) throw invalidArgument('conflicting options: port publishing and the container type network mode');
    if (o.exposed?.length) throw invalidArgument('conflicting options: port exposing and the container type network mode');
  }
  // (With none or the host's network, published ports are discarded, as dockerd discards them.)
  if (o.ip !== undefined || o.networkAlias?.length) throw invalidArgument(`--ip and --network-alias need a user-defined network (--network ${mode})`);
  if (o.macAddress !== undefined) throw invalidArgument(`conflicting options: mac-address and the network mode (--network ${mode})`);
  if (o.link?.length) throw invalidArgument(`conflicting options: --link and the network mode (--network ${mode})`);
  return { netId: '', links: [] };
}

/** Docker's Config.ExposedPorts: the image's and --expose's ("90" is "90/tcp"). */
function exposedOf(cfg: Record<string, unknown>, o: CreateOptions): { ExposedPorts?: string[] } {
  const all = [...Object.keys((cfg.ExposedPorts as Record<string, unknown> | undefined) ?? {}), ...(o.exposed ?? [])].map((p) => (p.includes('/') ? p : `${p}/tcp`));
  return all.length ? { ExposedPorts: [...new Set(all)] } : {};
}

/** The daemon's own checks of a request, before it looks at the image (dockerd's verifyContainerSettings). */
function verifySettings(o: CreateOptions): void {
  if (o.workdir !== undefined && o.workdir !== '' && !o.workdir.startsWith('/')) throw invalidArgument(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  if (o.memory !== undefined && o.memory !== 0 && o.memory < 6 * 1024 * 1024) throw invalidArgument('Minimum memory limit allowed is 6MB');
}

/** `create`: the container's layer, bundle and record; nothing runs yet. */
export async function create(c: ContainerContext, o: CreateOptions): Promise<ContainerRecord> {
  verifySettings(o);
  const image = c.images.resolve(o.image);
  const cfg = (c.images.config(image).config ?? {}) as Record<string, unknown>;
  // (Docker's container names have two characters at least.)
  if (o.name !== undefined && !(validName(o.name) && o.name.length > 1)) throw invalidArgument(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  // The stop signal is checked here, as Docker's create does ("Invalid signal: X").
  if (o.stopSignal !== undefined) dockerSignal(o.stopSignal);
  const id = randomBytes(32).toString('hex');
  const name = o.name ?? `${ADJ[randomBytes(1)[0]! % ADJ.length]}_${NOUN[randomBytes(1)[0]! % NOUN.length]}_${id.slice(0, 4)}`;
  const mode = o.network ?? 'bridge';
  const { net, settings, netId, links } = await planNetwork(c, o, mode, cfg);
  const undo = new Undo();
  try {
    // The name, then an address, then the volumes, the record, the layer and the bundle.
    c.store.names.claim(name, id, 'container');
    undo.push(() => c.store.names.release(name, id));
    if (net && settings) {
      const a = net.allocate(netId, { id, name, ip: o.ip, aliases: o.networkAlias, mac: o.macAddress });
      undo.push(() => net.release(id));
      settings.Networks[a.network.Name] = a.endpoint;
    }
    const { mounts, fresh } = resolveMounts(c, o, Object.keys((cfg.Volumes as Record<string, unknown> | undefined) ?? {}));
    undo.push(() => {
      for (const m of fresh) if (m.Anonymous) c.volumes.remove(m.Name!);
    });
    const resolvedMounts = mounts.map((m) => bindMount(m.Source, { destination: m.Destination, readOnly: !m.RW, propagation: [] }));
    // The hostname: the one asked, the host's with its network, else the id's first 12.
    // (With another container's network: its hostname, and its id in NetworkMode, as dockerd.)
    const peer = mode.startsWith('container:') ? c.store.find(mode.slice('container:'.length)) : undefined;
    const hostname = o.hostname ?? (mode === 'host' ? hostHostname() : peer ? (peer.Config?.Hostname ?? peer.Id.slice(0, 12)) : id.slice(0, 12));
    const hostConfig = hostConfigDefaults({ ...(o.hostConfig ?? {}), ...(peer ? { NetworkMode: `container:${peer.Id}` } : {}) }, { masked: DEFAULT_MASKED_PATHS, readonly: DEFAULT_READONLY_PATHS, cgroupns: 'private' });
    const config = mergeConfig({ Image: o.image, ...(o.config ?? {}) }, cfg as ImageRunConfig, hostname);
    const memorySwap = o.memorySwap ?? (hostConfig.MemorySwap || undefined);
    const { spec, args } = buildSpec({ ...o, hostname, memorySwap, network: mode, netnsPath: net?.netnsPath(id), resolvedMounts, init: o.withInit ? helperPath() : undefined }, { config: cfg }, id, (n) => c.store.running(n).State.Pid);
    const rec: ContainerRecord = {
      Id: id,
      Name: name,
      Image: o.image,
      ImageID: image.id,
      Command: args,
      Created: new Date().toISOString(),
      State: { Status: 'created', ExitCode: 0, Pid: 0, StartedAt: '', FinishedAt: '', OOMKilled: false },
      StopSignal: o.stopSignal ?? (cfg.StopSignal as string | undefined),
      StopTimeout: o.stopTimeout,
      Mounts: mounts,
      AutoRemove: o.autoRemove === true,
      RestartPolicy: restartPolicyOf(o.restart),
      RestartCount: 0,
      Healthcheck: healthcheckOf(o.health, cfg.Healthcheck as ImageHealthcheck | undefined),
      NetworkMode: mode,
      ...exposedOf(cfg, o),
      ...(links.length ? { Links: links.map((l) => `/${l.name}:/${name}/${l.alias}`) } : {}),
      ...(settings ? { NetworkSettings: settings } : {}),
      ...(o.tty ? { Tty: true } : {}),
      ...(o.interactive ? { OpenStdin: true } : {}),
      ...idShiftOf(spec),
      Config: config,
      HostConfig: hostConfig,
    };
    const bundle = c.bundleDir(id);
    const top = image.layers[image.layers.length - 1];
    undo.push(() => c.store.records.remove(id));
    c.store.put(rec);
    c.images.snapshots.prepare(id, top?.chainId, rec.IdShift ? { idShift: rec.IdShift } : {});
    undo.push(() => c.images.snapshots.remove(id));
    undo.push(() => rmSync(bundle, { recursive: true, force: true }));
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    // The user (by name or id) as the image's /etc/passwd and /etc/group say, as dockerd and runc
    // set it up: the primary gid and the member groups as additional gids, HOME from its entry.
    const user = o.user ?? (cfg.User as string | undefined) ?? '';
    const files = await imageFiles(c, id, ['/etc/passwd', '/etc/group']);
    const pu = processUser(user, files[0], files[1], o.groupAdd);
    spec.process!.user = { uid: pu.uid, gid: pu.gid, additionalGids: pu.additionalGids };
    if (!spec.process!.env!.some((e) => e.startsWith('HOME='))) spec.process!.env!.push(`HOME=${pu.home}`);
    await writeEtcFiles(c, { rec, spec, bundle, o, settings, net, links });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    // A new, empty volume takes what the image has where it is mounted, as Docker does.
    // (A volume with a file system of its own is mounted only while used: nothing is seeded under it.)
    for (const m of fresh) if (c.volumes.isEmpty(m.Name!) && !m.NoCopy && !c.volumes.hasMount(m.Name!)) await c.images.copyFromSnapshot(id, m.Destination, m.Source);
    // A new volume of a remapped container belongs to its root.
    if (rec.IdShift) for (const m of fresh) chownSync(m.Source, rec.IdShift.uid, rec.IdShift.gid);
    return rec;
  } catch (e) {
    undo.run();
    throw e;
  }
}
