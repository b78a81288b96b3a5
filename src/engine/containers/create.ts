/**
 * `create`: a container's name, network address, volumes, layer, bundle (spec and /etc files)
 * and record; nothing runs yet. Everything is checked before anything is made; what is made is
 * undone, in reverse, when a later step fails (one list of undo steps).
 */
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from '../../lib/builtins.js';
import { invalidArgument } from '../../lib/errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { helperPath } from '../../sys/paths.js';
import { bindMount, buildSpec, resolveUserIn } from '../container-spec.js';
import type { NetworkService, NetworkSettings } from '../networks.js';
import { validName } from '../names.js';
import type { ContainerConfig } from '../../image/index.js';
import { containerConfigOf } from './config-merge.js';
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
      mounts.push({ Type: 'bind', Source: p.source!, Destination: p.destination, RW: !p.readOnly });
      continue;
    }
    const existed = p.source !== undefined && c.volumes.get(p.source) !== undefined;
    const vol = c.volumes.create(p.source, { anonymous: p.source === undefined });
    const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: p.destination, RW: !p.readOnly, Anonymous: vol.Anonymous };
    mounts.push(m);
    if (p.noCopy) m.NoCopy = true;
    if (!existed || c.volumes.isEmpty(vol.Name)) fresh.push(m);
  }
  for (const from of o.volumesFrom ?? []) {
    const [name, mode] = from.split(':');
    const other = c.store.find(name!);
    for (const m of other.Mounts ?? []) if (!taken(m.Destination)) mounts.push({ ...m, RW: mode === 'ro' ? false : m.RW });
  }
  for (const dst of imageVolumes) {
    if (taken(dst)) continue;
    const vol = c.volumes.create(undefined, { anonymous: true });
    const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: dst, RW: true, Anonymous: true };
    mounts.push(m);
    fresh.push(m);
  }
  return { mounts, fresh };
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
  if (o.ports?.length || o.publishAll) throw invalidArgument(`conflicting options: port publishing and the container type network mode (--network ${mode})`);
  if (o.ip !== undefined || o.networkAlias?.length) throw invalidArgument(`--ip and --network-alias need a user-defined network (--network ${mode})`);
  if (o.macAddress !== undefined) throw invalidArgument(`conflicting options: mac-address and the network mode (--network ${mode})`);
  if (o.link?.length) throw invalidArgument(`conflicting options: --link and the network mode (--network ${mode})`);
  return { netId: '', links: [] };
}

/** `create`: the container's layer, bundle and record; nothing runs yet. */
export function create(c: ContainerContext, o: CreateOptions): Promise<ContainerRecord> {
  // A terminal gets TERM, as Docker sets it (in the process's environment, not the container's config).
  return createContainer(c, o.tty ? { ...o, env: ['TERM=xterm', ...(o.env ?? [])] } : o, o);
}

async function createContainer(c: ContainerContext, o: CreateOptions, asked: CreateOptions): Promise<ContainerRecord> {
  const image = c.images.resolve(o.image);
  const cfg = (c.images.config(image).config ?? {}) as Record<string, unknown>;
  if (o.name !== undefined && !validName(o.name)) throw invalidArgument(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
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
    const { spec, args } = buildSpec({ ...o, network: mode, netnsPath: net?.netnsPath(id), resolvedMounts, init: o.withInit ? helperPath() : undefined }, { config: cfg }, id, (n) => c.store.running(n).State.Pid);
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
      ...(links.length ? { Links: links.map((l) => `/${l.name}:/${name}/${l.alias}`) } : {}),
      ...(settings ? { NetworkSettings: settings } : {}),
      ...(o.tty ? { Tty: true } : {}),
      ...(o.interactive ? { OpenStdin: true } : {}),
      Config: containerConfigOf(asked, cfg as ContainerConfig, id),
      ...idShiftOf(spec),
    };
    const bundle = c.bundleDir(id);
    const top = image.layers[image.layers.length - 1];
    undo.push(() => c.store.records.remove(id));
    c.store.put(rec);
    c.images.snapshots.prepare(id, top?.chainId, rec.IdShift ? { idShift: rec.IdShift } : {});
    undo.push(() => c.images.snapshots.remove(id));
    undo.push(() => rmSync(bundle, { recursive: true, force: true }));
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    // A user given (by name or id): looked up in the image's /etc/passwd and /etc/group.
    const user = o.user ?? (cfg.User as string | undefined) ?? '';
    if (user) {
      spec.process!.user = await c.images.withSnapshot(id, false, (dir) => resolveUserIn(dir, user));
    }
    await writeEtcFiles(c, { rec, spec, bundle, o, settings, net, links });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    // A new, empty volume takes what the image has where it is mounted, as Docker does.
    for (const m of fresh) if (c.volumes.isEmpty(m.Name!) && !m.NoCopy) await c.images.copyFromSnapshot(id, m.Destination, m.Source);
    // A new volume of a remapped container belongs to its root.
    if (rec.IdShift) for (const m of fresh) chownSync(m.Source, rec.IdShift.uid, rec.IdShift.gid);
    return rec;
  } catch (e) {
    undo.run();
    throw e;
  }
}
