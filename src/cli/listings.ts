/** The docker CLI's listings: each row's Go type, its default table and its columns' headers. */
import type { Listing } from './output.js';

export const CONTAINERS: Listing = {
  type: '*formatter.ContainerContext',
  table: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {
    ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
    State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Platform: 'PLATFORM',
  },
};

const IMAGE_HEADERS = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE',
  Containers: 'CONTAINERS', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

export const IMAGES: Listing = {
  type: '*formatter.imageContext',
  table: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  headers: IMAGE_HEADERS,
};

export const IMAGES_DIGESTS: Listing = { ...IMAGES, table: 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' };

export const HISTORY: Listing = {
  type: '*image.historyContext',
  table: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
  headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
};

export const NETWORKS: Listing = {
  type: '*network.networkContext',
  table: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' },
};

export const VOLUMES: Listing = {
  type: '*volume.volumeContext',
  table: 'table {{.Driver}}\t{{.Name}}',
  headers: {
    Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE',
    Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS',
  },
};

export const STATS: Listing = {
  type: '*container.statsContext',
  table: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  headers: {
    Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
  },
};

export const DISK_USAGE: Listing = {
  type: '*formatter.diskUsageImagesContext',
  table: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
  headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
};

/** A row's LABELS: `k=v` joined by commas (in key order; Docker's follows Go's map order). */
export function labelsColumn(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * Go's time.Time.String() of a moment, in UTC as the docker CLI prints it on a UTC host:
 * `2026-05-07 20:33:45 +0000 UTC` (with `.123` where the time has a fraction and `seconds` is not asked).
 */
export function goTime(t: string | number | Date, seconds = false): string {
  if (seconds) return goTime(Math.floor(new Date(t).getTime() / 1000) * 1000);
  const iso = typeof t === 'string' ? t : new Date(t).toISOString();
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(iso);
  if (!m || (m[4] && m[4] !== 'Z' && m[4] !== '+00:00')) return goTime(new Date(iso).toISOString(), seconds);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? '.' + frac : ''} +0000 UTC`;
}
