/**
 * Networks: records (one JSON file per network under <root>/metadata/networks, its address
 * allocations included), the default `bridge` network, and a container's attachments: addresses
 * taken at create and returned at rm, the kernel side (namespace, veths, ports, DNS) set up at
 * start and torn down when it ends. Everything that touches addresses or the host's network runs
 * under one host-wide lock, so concurrent berth processes never hand out an address twice.
 * Loaded only by containers that use a network (and the network commands).
 */
import type { NetworkCreateRequest } from './models.js';
import { randomBytes } from '../lib/builtins.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import {
  addLocalPorts,
  localPortsCgroup,
  removeLocalPorts,
  addPorts,
  attachEndpoint,
  BRIDGE_PREFIX,
  contains,
  createNetns,
  deleteNetns,
  detachEndpoint,
  dnsFiles,
  ensureBridge,
  firewallBackend,
  firstFree,
  formatCidr,
  formatIPv4,
  hostsFile,
  linkExists,
  macFor,
  parseMac,
  overlaps,
  exposedToMappings,
  parseAddHost,
  parseCidr,
  parseIPv4,
  portFree,
  removeBridge,
  removePorts,
  resolvConf,
  startProxy,
  stopProxy,
  stopDns,
  updateDns,
  type PortMapping,
  type PublishedPort,
  type Shortcut,
  type Subnet,
} from '../network/index.js';
import { execTool } from '../sys/exec.js';
import { writeFileAtomic } from '../sys/fs.js';
import { jsonCodec, RecordStore } from '../sys/store.js';
import { DEFAULT_ROOT } from './defaults.js';
import { validName } from './names.js';
import { withLock } from '../sys/lock.js';

export const DEFAULT_NETWORK = 'bridge';
/**
 * The resolvers a network's DNS server forwards to (host[:port],...): `-o berth.dns.upstream=...`
 * at create, or BERTH_DNS_UPSTREAM then; kept with the network, so that a server started later by
 * a restart (whose environment is empty) forwards to the same place.
 */
export const DNS_UPSTREAM_OPT = 'berth.dns.upstream';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: 'bridge';
  Subnet: string;
  Gateway: string;
  /** A subnet was given without a gateway: inspect's IPAM config shows only the subnet, as Docker's. */
  GatewayImplied?: boolean;
  Internal: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Bridge: string;
  MTU: number;
  /** The address handed out last (the next one is looked for after it). */
  LastIP?: string;
  /** Address allocations: container id → its endpoint. */
  Endpoints: Record<string, { Name: string; IPAddress: string; MacAddress: string; Aliases: string[] }>;
}

/** A container's attachment to a network, as inspect shows it (Docker's EndpointSettings). */
export interface EndpointSettings {
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Aliases: string[];
}

export interface NetworkSettings {
  /** network name → endpoint */
  Networks: Record<string, EndpointSettings>;
  /** what was asked (host port 0: any); filled with the ports taken at start */
  Ports: PortMapping[];
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
}

/** What the kernel has for a running container: removed by `down`. */
interface UpState {
  /** which start made it: a late cleanup of an earlier run must not tear down a newer one */
  token: string;
  netns: string;
  endpoints: { net: string; veth: string; index: number; shortcut?: Shortcut }[];
  ports: PublishedPort[];
  dns: string[];
  /** the userland proxy's pid file, where the ports go through it */
  proxy?: string;
}


const LOCK = process.env.BERTH_NETWORK_LOCK ?? '/run/lock/berth-network.lock';

/** A container's network state (what its start set up), or undefined when there is none. */
function readState(path: string): UpState | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as UpState;
  } catch {
    return undefined;
  }
}

export class NetworkService {
  /**
   * metadata/networks/ID.json. Every change of a network record (and of the address plan across
   * networks) is made under one lock, LOCK (`locked`), which also orders the host's ip/nft work.
   */
  private readonly store: RecordStore<NetworkRecord>;

  constructor(private readonly opts: { root: string; runroot: string }) {
    this.store = new RecordStore<NetworkRecord>(join(opts.root, 'metadata', 'networks'), { codec: jsonCodec(1) });
  }

  private locked<T>(fn: () => T): T {
    return withLock(LOCK, fn);
  }

  firewallBackend(): string {
    return firewallBackend();
  }

  /** Where the host's own TCP connections to published ports are redirected at connect(), if anywhere. */
  localPortsCgroup(): string | undefined {
    return firewallBackend() === 'none' ? undefined : localPortsCgroup();
  }

  /** The host's network namespace as a file (for a monitor's exit command to get back to it). */

  netnsPath(containerId: string): string {
    return join(this.opts.runroot, 'netns', containerId);
  }

  private statePath(containerId: string): string {
    return join(this.opts.runroot, 'net', `${containerId}.json`);
  }

  private dns(netId: string) {
    return dnsFiles(join(this.opts.runroot, 'dns'), netId);
  }

  list(): NetworkRecord[] {
    return this.store.list().sort((a, b) => a.Created.localeCompare(b.Created));
  }

  private save(n: NetworkRecord): void {
    this.store.put(n.Id, n);
  }

  find(nameOrId: string): NetworkRecord {
    const all = this.list();
    const exact = all.find((n) => n.Name === nameOrId || n.Id === nameOrId);
    if (exact) return exact;
    if (nameOrId === DEFAULT_NETWORK) return this.ensureDefault();
    const byPrefix = /^[0-9a-f]+$/.test(nameOrId) ? all.filter((n) => n.Id.startsWith(nameOrId)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalidArgument(`network id prefix ${JSON.stringify(nameOrId)} is ambiguous`);
    throw notFound(`network ${nameOrId} not found`);
  }

  /** Subnets in use: the host's routes (but default ones) and every berth network of this root. */
  private usedSubnets(except?: string): { subnet: Subnet; what: string }[] {
    const used: { subnet: Subnet; what: string }[] = [];
    for (const n of this.list()) if (n.Bridge !== except) used.push({ subnet: parseCidr(n.Subnet), what: `network ${n.Name}` });
    const r = execTool('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
    for (const line of r.stdout.split('\n')) {
      const f = line.trim().split(/\s+/);
      let dst = f[0] === 'local' || f[0] === 'broadcast' || f[0] === 'unicast' ? f[1] : f[0];
      if (!dst || dst === 'default' || f[0] === 'local' || f[0] === 'broadcast') continue;
      const dev = f[f.indexOf('dev') + 1];
      if (except && dev === except) continue;
      if (!dst.includes('/')) dst += '/32';
      const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(dst);
      if (!m) continue;
      const base = parseIPv4(m[1]!);
      if (base === undefined) continue;
      used.push({ subnet: { base, prefix: Number(m[2]) }, what: `the host's route ${dst}${dev ? ` (dev ${dev})` : ''}` });
    }
    return used;
  }

  private pickSubnet(candidates: Iterable<Subnet>): Subnet {
    const used = this.usedSubnets();
    for (const c of candidates) if (!used.some((u) => overlaps(u.subnet, c))) return c;
    throw failedPrecondition('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network: give one with --subnet');
  }

  private bridgeName(id: string, name: string): string {
    return name === DEFAULT_NETWORK && this.opts.root === DEFAULT_ROOT ? `${BRIDGE_PREFIX}0` : `${BRIDGE_PREFIX}${id.slice(0, 10)}`;
  }

  /** The default `bridge` network: made on first use with a /16 no route of the host uses. */
  ensureDefault(): NetworkRecord {
    return this.locked(() => {
      const have = this.list().find((n) => n.Name === DEFAULT_NETWORK);
      if (have) return have;
      const subnet = this.pickSubnet(
        (function* () {
          for (let b = 89; b < 128; b++) yield { base: ((10 << 24) >>> 0) + (b << 16), prefix: 16 };
        })(),
      );
      return this.make({ name: DEFAULT_NETWORK, subnet, labels: {}, options: {}, internal: false });
    });
  }

  /** Makes the record and the bridge (the caller holds the lock). */
  private make(o: { name: string; subnet: Subnet; gateway?: number; subnetGiven?: boolean; labels: Record<string, string>; options: Record<string, string>; internal: boolean }): NetworkRecord {
    const id = randomBytes(32).toString('hex');
    const gw = o.gateway ?? (o.subnet.base + 1) >>> 0;
    const mtuOpt = o.options['com.docker.network.driver.mtu'] ?? o.options.mtu;
    const mtu = mtuOpt === undefined ? 1500 : Number(mtuOpt);
    if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) throw invalidArgument(`invalid mtu ${JSON.stringify(mtuOpt)}: a number from 68 to 65535`);
    const bridge = o.options['com.docker.network.bridge.name'] ?? this.bridgeName(id, o.name);
    if (!bridge.startsWith(BRIDGE_PREFIX) || bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw invalidArgument(`invalid bridge name ${JSON.stringify(bridge)}: berth's bridges are named ${BRIDGE_PREFIX}*, at most 15 characters`);
    if (this.list().some((n) => n.Bridge === bridge) || (linkExists(bridge) && o.options['com.docker.network.bridge.name'])) throw conflict(`bridge ${bridge} is in use already`);
    const rec: NetworkRecord = {
      Name: o.name,
      Id: id,
      Created: new Date().toISOString(),
      Driver: 'bridge',
      Subnet: formatCidr(o.subnet),
      Gateway: formatIPv4(gw),
      ...(o.subnetGiven && o.gateway === undefined ? { GatewayImplied: true } : {}),
      Internal: o.internal,
      Labels: o.labels,
      Options: o.options,
      Bridge: bridge,
      MTU: mtu,
      Endpoints: {},
    };
    // The record first: a berth killed before the bridge is up leaves a record (its bridge made
    // when a container joins, removed by network rm), never a bridge that no record names.
    this.save(rec);
    try {
      this.bridgeUp(rec);
    } catch (e) {
      removeBridge({ name: bridge, subnet: rec.Subnet, gateway: rec.Gateway, internal: rec.Internal });
      this.store.delete(id);
      throw e;
    }
    return rec;
  }

  private bridgeUp(n: NetworkRecord): void {
    const s = parseCidr(n.Subnet);
    ensureBridge({ name: n.Bridge, subnet: n.Subnet, gateway: n.Gateway, prefix: s.prefix, mtu: n.MTU, internal: n.Internal });
  }

  /** `network create` */
  /** `network create`, as the Engine API's POST /networks/create asks (one IPAM config: a subnet and its gateway). */
  create(req: NetworkCreateRequest): NetworkRecord {
    const name = req.Name;
    const ipam = req.IPAM?.Config?.[0];
    const o = { subnet: ipam?.Subnet, gateway: ipam?.Gateway, internal: req.Internal === true, driver: req.Driver };
    if ((req.IPAM?.Config?.length ?? 0) > 1) throw invalidArgument('only one IPAM config (a subnet and its gateway) per network');
    if (!validName(name)) throw invalidArgument(`invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (['host', 'none', DEFAULT_NETWORK].includes(name)) throw conflict(`network with name ${name} already exists (it is predefined)`);
    // A driver dockerd does not have is a plugin it cannot find; one it has that berth lacks, said so.
    if (o.driver && o.driver !== 'bridge' && !['host', 'null', 'overlay', 'macvlan', 'ipvlan'].includes(o.driver)) throw notFound(`plugin ${JSON.stringify(o.driver)} not found`);
    if (o.driver && o.driver !== 'bridge') throw invalidArgument(`network driver ${JSON.stringify(o.driver)} is not supported (bridge only)`);
    const labels = { ...(req.Labels ?? {}) };
    const options = { ...(req.Options ?? {}) };
    if (options[DNS_UPSTREAM_OPT] === undefined && process.env.BERTH_DNS_UPSTREAM !== undefined) options[DNS_UPSTREAM_OPT] = process.env.BERTH_DNS_UPSTREAM;
    const subnet = o.subnet !== undefined ? parseCidr(o.subnet) : undefined;
    let gateway: number | undefined;
    if (o.gateway !== undefined) {
      if (!subnet) throw invalidArgument('--gateway needs --subnet');
      gateway = parseIPv4(o.gateway);
      if (gateway === undefined) throw invalidArgument(`invalid gateway ${JSON.stringify(o.gateway)}: not an IPv4 address`);
      const bcast = (subnet.base + 2 ** (32 - subnet.prefix) - 1) >>> 0;
      if (!contains(subnet, gateway) || gateway === subnet.base || gateway === bcast) throw invalidArgument(`invalid gateway ${o.gateway}: not a host address of subnet ${o.subnet}`);
    }
    return this.locked(() => {
      if (this.list().some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
      let s = subnet;
      if (s) {
        // As Docker: a subnet given by hand must not overlap this engine's networks; a route of
        // the host's own (another engine's bridge, a VPN) is the user's call. Picked subnets avoid both.
        const hit = this.list()
          .map((n) => ({ subnet: parseCidr(n.Subnet), what: `network ${n.Name}` }))
          .find((u) => overlaps(u.subnet, s!));
        if (hit) throw invalidArgument(`invalid subnet ${o.subnet}: Pool overlaps with other one on this address space (${hit.what})`);
      } else {
        s = this.pickSubnet(
          (function* () {
            for (let b = 90; b < 128; b++) for (let c = 0; c < 256; c++) yield { base: ((10 << 24) >>> 0) + (b << 16) + (c << 8), prefix: 24 };
          })(),
        );
      }
      return this.make({ name, subnet: s, gateway, subnetGiven: subnet !== undefined, labels, options, internal: o.internal === true });
    });
  }

  /** Containers of this root attached to a network (by the records' endpoints). */
  private inUse(n: NetworkRecord): string[] {
    return Object.values(n.Endpoints).map((e) => e.Name);
  }

  /** `network rm` */
  remove(nameOrId: string): string {
    const n = this.find(nameOrId);
    if (n.Name === DEFAULT_NETWORK) throw failedPrecondition(`${DEFAULT_NETWORK} is a pre-defined network and cannot be removed`);
    return this.locked(() => {
      const now = this.find(n.Id);
      const users = this.inUse(now);
      if (users.length) throw conflict(`error while removing network: network ${now.Name} id ${now.Id} has active endpoints`);
      this.teardownNetwork(now);
      this.store.delete(now.Id);
      return now.Name;
    });
  }

  /** Takes the default network's bridge, rules and DNS down (system reset: its record goes with the root). */
  teardownDefault(): void {
    const n = this.list().find((x) => x.Name === DEFAULT_NETWORK);
    if (n) this.locked(() => this.teardownNetwork(n));
  }

  private teardownNetwork(n: NetworkRecord): void {
    stopDns(this.dns(n.Id));
    removeBridge({ name: n.Bridge, subnet: n.Subnet, gateway: n.Gateway, internal: n.Internal });
  }

  /**
   * `network prune`: removes user-defined networks no container uses, takes the default bridge
   * down when nothing uses it, and cleans what crashed containers left (namespaces, veths, ports).
   */
  prune(running: (id: string) => boolean, labelFilter?: (labels: Record<string, string>) => boolean, exists?: (id: string, name: string) => boolean): string[] {
    this.cleanStale(running);
    // Addresses held for containers that are gone (a berth process killed while it made one).
    if (exists) {
      this.locked(() => {
        for (const n of this.list()) {
          const gone = Object.entries(n.Endpoints).filter(([id, ep]) => !exists(id, ep.Name)).map(([id]) => id);
          if (gone.length === 0) continue;
          for (const id of gone) delete n.Endpoints[id];
          this.save(n);
        }
      });
    }
    const gone: string[] = [];
    for (const n of this.list()) {
      if (this.inUse(n).length) continue;
      if (n.Name === DEFAULT_NETWORK) {
        this.locked(() => this.teardownNetwork(n));
        continue;
      }
      if (labelFilter && !labelFilter(n.Labels)) continue;
      try {
        this.remove(n.Id);
        gone.push(n.Name);
      } catch {
        /* taken meanwhile */
      }
    }
    return gone;
  }

  /** Tears down what containers that are not running left up (after kill -9 of their monitor). */
  cleanStale(running: (id: string) => boolean): void {
    let names: string[] = [];
    try {
      names = readdirSync(join(this.opts.runroot, 'net'));
    } catch {
      /* none */
    }
    for (const f of names) {
      const id = f.replace(/\.json$/, '');
      if (f.endsWith('.json') && !running(id)) this.down(id);
    }
  }

  // ---- containers -------------------------------------------------------------------------

  /** `--mac-address`, checked (before anything is made) and normalised. */
  parseMac(s: string): string {
    return parseMac(s);
  }

  /** PortBindings and -P → the mappings asked (host port 0: any), checked before anything is made. */
  parsePorts(o: { ports?: PortMapping[]; publishAll?: boolean; exposed?: string[] }): PortMapping[] {
    const ports = [...(o.ports ?? [])];
    if (o.publishAll) for (const m of exposedToMappings(o.exposed ?? [])) if (!ports.some((p) => p.containerPort === m.containerPort && p.proto === m.proto)) ports.push(m);
    const seen = new Set<string>();
    for (const p of ports) {
      if (p.hostPort === 0) continue;
      const k = `${p.hostIp}:${p.hostPort}/${p.proto}`;
      if (seen.has(k)) throw invalidArgument(`host port ${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto} is published twice`);
      seen.add(k);
    }
    return ports;
  }

  /**
   * An address for a container on a network (`ip` asked, or the first free one), recorded in the
   * network under the lock; returns the endpoint settings.
   */
  allocate(netNameOrId: string, c: { id: string; name: string; ip?: string; aliases?: string[]; mac?: string }): { network: NetworkRecord; endpoint: EndpointSettings } {
    const mac0 = c.mac === undefined ? undefined : parseMac(c.mac);
    const net0 = this.find(netNameOrId);
    return this.locked(() => {
      const n = this.find(net0.Id);
      if (n.Endpoints[c.id]) throw conflict(`endpoint with name ${c.name} already exists in network ${n.Name}`);
      const s = parseCidr(n.Subnet);
      const taken = new Set<number>([parseIPv4(n.Gateway)!, ...Object.values(n.Endpoints).map((e) => parseIPv4(e.IPAddress)!)]);
      let ip: number | undefined;
      if (c.ip !== undefined) {
        ip = parseIPv4(c.ip);
        if (ip === undefined) throw invalidArgument(`invalid IPv4 address ${JSON.stringify(c.ip)}`);
        if (n.Name === DEFAULT_NETWORK) throw invalidArgument('user specified IP address is supported on user defined networks only');
        const bcast = (s.base + 2 ** (32 - s.prefix) - 1) >>> 0;
        if (!contains(s, ip) || ip === s.base || ip === bcast) throw invalidArgument(`invalid address ${c.ip}: it does not belong to network ${n.Name} (${n.Subnet})`);
        if (taken.has(ip)) throw conflict(`Address already in use: ${c.ip} on network ${n.Name}`);
      } else {
        ip = firstFree(s, taken, n.LastIP ? parseIPv4(n.LastIP) : undefined);
        if (ip === undefined) throw failedPrecondition(`no available IPv4 addresses on network ${n.Name} (${n.Subnet})`);
      }
      const aliases = [...new Set(c.aliases ?? [])];
      for (const a of aliases) if (!validName(a)) throw invalidArgument(`invalid network alias ${JSON.stringify(a)}`);
      const mac = mac0 ?? macFor(ip);
      n.Endpoints[c.id] = { Name: c.name, IPAddress: formatIPv4(ip), MacAddress: mac, Aliases: aliases };
      n.LastIP = formatIPv4(ip);
      this.save(n);
      return {
        network: n,
        endpoint: { NetworkID: n.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: n.Gateway, IPAddress: formatIPv4(ip), IPPrefixLen: s.prefix, MacAddress: mac, Aliases: aliases },
      };
    });
  }

  /** Gives a container's addresses back (rm, disconnect, a failed create). */
  release(containerId: string, networkIds?: string[]): void {
    this.locked(() => {
      for (const n of this.list()) {
        if (networkIds && !networkIds.includes(n.Id)) continue;
        if (!n.Endpoints[containerId]) continue;
        delete n.Endpoints[containerId];
        this.save(n);
      }
    });
  }

  /** /etc/hosts and /etc/resolv.conf of a container with these settings. */
  etcFiles(s: NetworkSettings, hostname: string, hostResolv: string): { hosts: string; resolv: string } {
    const nets = Object.entries(s.Networks);
    const first = nets[0];
    const user = nets.find(([name]) => name !== DEFAULT_NETWORK);
    const extra = (s.ExtraHosts ?? []).map((h) => parseAddHost(h, first?.[1].Gateway));
    const hosts = hostsFile({ ip: first?.[1].IPAddress, hostname, extra });
    const resolv = resolvConf({ dns: s.Dns, dnsSearch: s.DnsSearch, dnsOptions: s.DnsOptions, embedded: user ? user[1].Gateway : undefined, host: hostResolv });
    return { hosts, resolv };
  }

  /**
   * Starts a container's networking: its namespace at netnsPath(id), a veth per network,
   * published ports (random ones chosen now), its names in its networks' DNS. Anything stale from
   * an earlier run goes first; on failure everything made here is undone. Returns the ports taken.
   */
  async up(c: { id: string; name: string; settings: NetworkSettings }): Promise<{ ports: PortMapping[]; token: string }> {
    this.down(c.id);
    // Host ports: a listener on the host (checked by binding) or another container's mapping
    // (an nft map element: checked when it is added) makes it fail before the container starts.
    const ports: PortMapping[] = [];
    for (const p of c.settings.Ports) {
      if (p.hostPort !== 0) {
        if (!(await portFree(p.hostIp, p.hostPort, p.proto))) throw failedPrecondition(`driver failed programming external connectivity on endpoint ${c.name}: Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
        ports.push(p);
        continue;
      }
      let port = 0;
      for (let i = 0; i < 50 && port === 0; i++) {
        const cand = 32768 + Math.floor(Math.random() * (60999 - 32768));
        if (!ports.some((q) => q.hostPort === cand) && (await portFree(p.hostIp, cand, p.proto))) port = cand;
      }
      if (port === 0) throw failedPrecondition('no free host port found for a published port');
      ports.push({ ...p, hostPort: port });
    }
    const state: UpState = { token: randomBytes(8).toString('hex'), netns: this.netnsPath(c.id), endpoints: [], ports: [], dns: [] };
    const statePath = this.statePath(c.id);
    mkdirSync(join(statePath, '..'), { recursive: true });
    writeFileAtomic(statePath, JSON.stringify(state));
    try {
      this.locked(() => {
        createNetns(state.netns);
        let index = 0;
        let routed = false;
        for (const [name, ep] of Object.entries(c.settings.Networks)) {
          const n = this.find(ep.NetworkID);
          this.attachOne(c, n, ep, state, index++, !routed && !n.Internal);
          if (!n.Internal) routed = true;
        }
        const first = Object.values(c.settings.Networks)[0];
        if (ports.length && first) {
          const pub: PublishedPort[] = ports.map((p) => ({ ...p, containerIp: first.IPAddress }));
          if (firewallBackend() === 'none') {
            state.proxy = join(this.opts.runroot, 'net', `${c.id}.proxy`);
            writeFileAtomic(statePath, JSON.stringify(state));
            startProxy(state.proxy, pub);
            return;
          }
          state.ports = pub;
          writeFileAtomic(statePath, JSON.stringify(state));
          try {
            addPorts(pub);
          } catch (e) {
            state.ports = [];
            writeFileAtomic(statePath, JSON.stringify(state));
            throw e;
          }
          addLocalPorts(pub, () => writeFileAtomic(statePath, JSON.stringify(state)));
        }
      });
    } catch (e) {
      this.down(c.id);
      throw e;
    }
    return { ports, token: state.token };
  }

  private attachOne(c: { id: string; name: string }, n: NetworkRecord, ep: EndpointSettings, state: UpState, index: number, defaultRoute: boolean): void {
    if (!linkExists(n.Bridge)) {
      // Made again (after a prune, a reboot): the subnet must still be free on this host.
      const hit = this.usedSubnets(n.Bridge).find((u) => u.what !== `network ${n.Name}` && overlaps(u.subnet, parseCidr(n.Subnet)));
      if (hit) throw failedPrecondition(`network ${n.Name}: its subnet ${n.Subnet} overlaps ${hit.what} now: remove one of them`);
      this.bridgeUp(n);
    }
    const veth = `bv${c.id.slice(0, 11)}${index.toString(16)}`;
    const entry: UpState['endpoints'][number] = { net: n.Id, veth, index };
    state.endpoints.push(entry);
    writeFileAtomic(this.statePath(c.id), JSON.stringify(state));
    const shortcut = attachEndpoint(state.netns, { hostVeth: veth, ifname: `eth${index}`, bridge: n.Bridge, ip: ep.IPAddress, prefix: ep.IPPrefixLen, gateway: ep.Gateway, mac: ep.MacAddress, mtu: n.MTU, defaultRoute });
    if (shortcut) {
      entry.shortcut = shortcut;
      writeFileAtomic(this.statePath(c.id), JSON.stringify(state));
    }
    if (n.Name !== DEFAULT_NETWORK) {
      state.dns.push(n.Id);
      writeFileAtomic(this.statePath(c.id), JSON.stringify(state));
      this.dnsAdd(n, c.id, [c.name, ...ep.Aliases], ep.IPAddress);
    }
  }

  /** The names a network's DNS server answers, with this container's added (lock held). */
  private dnsAdd(n: NetworkRecord, id: string, names: string[], ip: string): void {
    const f = this.dns(n.Id);
    const cur = this.dnsTable(n.Id);
    cur[id] = { names, ip };
    updateDns(f, n.Gateway, this.namesOf(cur), n.Options[DNS_UPSTREAM_OPT]);
    writeFileAtomic(f.records + '.containers', JSON.stringify(cur));
  }

  private dnsTable(netId: string): Record<string, { names: string[]; ip: string }> {
    try {
      return JSON.parse(readFileSync(this.dns(netId).records + '.containers', 'utf8')) as Record<string, { names: string[]; ip: string }>;
    } catch {
      return {};
    }
  }

  private namesOf(t: Record<string, { names: string[]; ip: string }>): Record<string, string[]> {
    const names: Record<string, string[]> = {};
    for (const { names: ns, ip } of Object.values(t)) for (const nm of ns) (names[nm.toLowerCase()] ??= []).push(ip);
    return names;
  }

  private dnsRemove(netId: string, id: string): void {
    const f = this.dns(netId);
    const cur = this.dnsTable(netId);
    delete cur[id];
    if (Object.keys(cur).length === 0) {
      stopDns(f);
      rmSync(f.records + '.containers', { force: true });
      return;
    }
    writeFileAtomic(f.records + '.containers', JSON.stringify(cur));
    writeFileAtomic(f.records, JSON.stringify({ names: this.namesOf(cur) }));
  }

  /**
   * Tears down what `up` made for a container; nothing when there is nothing, or (with `token`)
   * when what is there was made by another start than the one the caller knows.
   */
  down(containerId: string, token?: string): void {
    const statePath = this.statePath(containerId);
    if (!existsSync(statePath)) return;
    // Read, checked and removed under the lock: a late cleanup of an earlier run must not act
    // on what it read before a newer start replaced it (the veth names and the namespace's
    // path are the same from one run to the next).
    this.locked(() => {
      const state = readState(statePath);
      if (!state) return;
      if (token !== undefined && state.token !== token) return;
      if (state.ports.length) {
        removeLocalPorts(state.ports);
        removePorts(state.ports);
      }
      if (state.proxy) stopProxy(state.proxy);
      for (const e of state.endpoints) detachEndpoint(e.veth, e.shortcut);
      deleteNetns(state.netns);
      for (const netId of state.dns) this.dnsRemove(netId, containerId);
      rmSync(statePath, { force: true });
    });
  }

  /** `network connect` of a running container: one more veth in its namespace. */
  connectRunning(c: { id: string; name: string }, n: NetworkRecord, ep: EndpointSettings): void {
    const statePath = this.statePath(c.id);
    this.locked(() => {
      const state = readState(statePath);
      if (!state) throw failedPrecondition(`container ${c.name} has no network set up (is it running?)`);
      const index = Math.max(-1, ...state.endpoints.map((e) => e.index)) + 1;
      if (index > 15) throw failedPrecondition(`container ${c.name} is on too many networks`);
      try {
        this.attachOne(c, n, ep, state, index, false);
      } catch (e) {
        detachEndpoint(`bv${c.id.slice(0, 11)}${index.toString(16)}`);
        state.endpoints = state.endpoints.filter((x) => x.index !== index);
        state.dns = state.dns.filter((d) => d !== n.Id);
        writeFileAtomic(statePath, JSON.stringify(state));
        throw e;
      }
    });
  }


  /** `network disconnect` of a running container: its veth on that network goes. */
  disconnectRunning(containerId: string, n: NetworkRecord): void {
    const statePath = this.statePath(containerId);
    this.locked(() => {
      const state = readState(statePath);
      if (!state) return;
      const ep = state.endpoints.find((e) => e.net === n.Id);
      if (ep) detachEndpoint(ep.veth, ep.shortcut);
      if (state.dns.includes(n.Id)) this.dnsRemove(n.Id, containerId);
      state.endpoints = state.endpoints.filter((e) => e !== ep);
      state.dns = state.dns.filter((d) => d !== n.Id);
      writeFileAtomic(statePath, JSON.stringify(state));
    });
  }

}
