/**
 * Listing, inspecting and pruning networks as Docker shows them: the user-defined and default
 * bridges, and the pseudo-networks `host` and `none` (the modes `--network host|none`), each with
 * Docker's fixed id; `network ls` filters (name=, id=, label=, driver=, scope=, type=, dangling=)
 * and `network prune`'s label= filters.
 */
import type { NetworkInspect } from './models.js';
import { invalidArgument } from '../lib/errors.js';
import type { ContainerService } from './containers.js';
import { filterMap, filterMatch, filterPairs, labelMatches, type Filters } from './filters.js';
import type { NetworkService } from './networks.js';

export interface NetworkSummary {
  Id: string;
  Name: string;
  /** RFC 3339, as the record holds it (the pseudo-networks: the default bridge's). */
  Created: string;
  Driver: string;
  Scope: 'local';
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string>;
}

const LS_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];

/**
 * The networks with dockerd's filters: driver and scope exactly, name and id (the value or a
 * pattern in it), label (KEY or KEY=VALUE, all must hold), dangling (true: custom networks no
 * container is on; false: the others), type (custom or builtin; values are alternatives).
 */
export function listNetworks(net: NetworkService, q: { filters?: Filters } = {}): NetworkSummary[] {
  const f = filterMap(q.filters, LS_FILTERS);
  const dangling = f.get('dangling');
  if (dangling && dangling.length > 1) throw invalidArgument('got more than one value for filter key "dangling"');
  if (dangling && !['true', 'false', '1', '0'].includes(dangling[0]!)) throw invalidArgument('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
  for (const v of f.get('type') ?? []) if (v !== 'custom' && v !== 'builtin') throw invalidArgument(`invalid filter: 'type'='${v}'`);
  const def = net.find('bridge'); // the default network exists once someone looks
  const rows = [
    ...net.list().map((n) => ({ Id: n.Id, Name: n.Name, Created: n.Created, Driver: n.Driver as string, Scope: 'local' as const, EnableIPv6: false, Internal: n.Internal, Labels: n.Labels, builtin: n.Name === 'bridge', used: Object.keys(n.Endpoints).length > 0 })),
    { Id: '0'.repeat(64), Name: 'host', Created: def.Created, Driver: 'host', Scope: 'local' as const, EnableIPv6: false, Internal: false, Labels: {}, builtin: true, used: false },
    { Id: 'f'.repeat(64), Name: 'none', Created: def.Created, Driver: 'null', Scope: 'local' as const, EnableIPv6: false, Internal: false, Labels: {}, builtin: true, used: false },
  ];
  const ok = (vs: string[] | undefined, pred: (v: string) => boolean) => vs === undefined || vs.some(pred);
  return rows
    .filter(
      (r) =>
        ok(f.get('driver'), (v) => v === r.Driver) &&
        filterMatch(f.get('name'), r.Name) &&
        filterMatch(f.get('id'), r.Id) &&
        (f.get('label') ?? []).every((v) => labelMatches(r.Labels, v)) &&
        ok(f.get('scope'), (v) => v === r.Scope) &&
        ok(dangling, (v) => (v === 'true' || v === '1') === (!r.builtin && !r.used)) &&
        ok(f.get('type'), (v) => (v === 'builtin') === r.builtin),
    )
    .map(({ builtin: _b, used: _u, ...r }) => r);
}

/** A network as Docker's inspect shows it, with the containers on it. */
export function inspectNetwork(net: NetworkService, containers: ContainerService, nameOrId: string): NetworkInspect {
  const r = net.find(nameOrId);
  const s = r.Subnet.split('/')[1];
  return {
    Name: r.Name,
    Id: r.Id,
    Created: r.Created,
    Scope: 'local',
    Driver: r.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [r.GatewayImplied ? { Subnet: r.Subnet } : { Subnet: r.Subnet, Gateway: r.Gateway }] },
    Internal: r.Internal,
    Attachable: false,
    Ingress: false,
    Containers: Object.fromEntries(
      Object.entries(r.Endpoints).map(([cid, e]) => [cid, { Name: e.Name, MacAddress: e.MacAddress, IPv4Address: `${e.IPAddress}/${s}`, IPv6Address: '', Aliases: e.Aliases, Running: containers.isRunning(cid) }]),
    ),
    Options: { 'com.docker.network.bridge.name': r.Bridge, 'com.docker.network.driver.mtu': String(r.MTU), ...r.Options },
    Labels: r.Labels,
  };
}

/**
 * `network prune`: networks no container uses (only those with the labels of every label=
 * filter), and what crashed containers left; the names of the networks removed.
 */
export function pruneNetworks(net: NetworkService, containers: ContainerService, q: { filters?: Filters } = {}): string[] {
  const bad = (f: string) => invalidArgument(`invalid filter ${JSON.stringify(f)} (label=KEY[=VALUE])`);
  const labels = filterPairs(q.filters, bad, (k, v, f) => {
    if (k !== 'label' || v === '' || v.startsWith('=')) throw bad(f);
  }).map(([, v]) => v);
  const wanted = labels.length ? (l: Record<string, string>) => labels.every((v) => labelMatches(l, v)) : undefined;
  return net.prune((id) => containers.isRunning(id), wanted, (id, name) => !containers.orphanEndpoint(id, name));
}
