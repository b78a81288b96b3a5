/** `ps` (also `container ls`): the engine's list of containers as Docker's table, ids or a template. */
import type { Command } from 'commander';
import type { ContainerSummary } from '../engine/index.js';
import { invalidArgument } from '../lib/errors.js';
import { ago, goTime, humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { sprintf } from '../lib/gotemplate/index.js';
import { CONTAINERS } from './listings.js';
import { fieldsUsed, renderFormatted } from './output.js';
import { collect, runDefined } from './program.js';

/** Go's strconv.Quote: double quotes, with \" \\ and control characters escaped. */
export function goQuote(s: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** The docker CLI's Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return max <= 1 ? chars.slice(0, max).join('') : chars.slice(0, max - 1).join('') + '…';
}

/**
 * The PORTS column as the docker CLI writes it: sorted by container port, runs of consecutive
 * ports of one address and protocol as ranges ("0.0.0.0:8000-8001->8000-8001/tcp"), exposed
 * ports alone ("90/tcp"), and mappings to another host port after them ("0.0.0.0:8080->80/tcp").
 */
export function displayablePorts(ports: ContainerSummary['Ports']): string {
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || (a.IP ?? '').localeCompare(b.IP ?? '') || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || a.Type.localeCompare(b.Type));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const form = (key: string, g: { first: number; last: number }) => {
    const [a, b] = key.split('|');
    const range = g.first === g.last ? String(g.first) : `${g.first}-${g.last}`;
    return b === undefined ? `${range}/${a}` : `${a}:${range}->${range}/${b}`;
  };
  for (const p of sorted) {
    let key: string = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        mappings.push(`${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}|${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    else if (p.PrivatePort === g.last + 1) g.last = p.PrivatePort;
    else {
      result.push(form(key, g));
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    }
  }
  for (const [key, g] of groups) result.push(form(key, g));
  return [...result, ...mappings].join(', ');
}

/** The IMAGE column: a short id for an id, and a reference without its digest (unless --no-trunc). */
function imageColumn(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (!trunc) return c.Image;
  const hex = (s: string) => s.replace(/^sha256:/, '').slice(0, 12);
  if (hex(c.Image) === hex(c.ImageID)) return hex(c.Image);
  return c.Image.replace(/@sha256:[0-9a-f]{64}$/, '');
}

/** A row with Docker's field names, as templates see them. */
export function psRow(c: ContainerSummary, trunc: boolean) {
  const names = c.Names.map((n) => n.replace(/^\//, ''));
  const own = trunc ? names.filter((n) => !n.includes('/')).slice(0, 1) : names;
  // The docker CLI's Size(): 0B when the sizes were not asked for.
  const size = `${humanSize(c.SizeRw ?? 0)}${c.SizeRootFs ? ` (virtual ${humanSize(c.SizeRootFs)})` : ''}`;
  return {
    Command: goQuote(trunc ? ellipsis(c.Command, 20) : c.Command),
    CreatedAt: goTime(c.Created * 1000),
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: imageColumn(c, trunc),
    Labels: Object.keys(c.Labels).sort().map((k) => `${k}=${c.Labels[k]}`).join(','),
    LocalVolumes: String(c.Mounts.filter((m) => m.Driver === 'local').length),
    Mounts: c.Mounts.map((m) => (trunc ? ellipsis(m.Name || m.Source, 15) : m.Name || m.Source)).join(','),
    Names: (own.length ? own : names).join(','),
    Networks: Object.keys(c.NetworkSettings.Networks).sort().join(','),
    Platform: null,
    Ports: displayablePorts(c.Ports),
    RunningFor: ago(c.Created * 1000),
    Size: size,
    State: c.State,
    Status: c.Status,
    Label: (name: string) => c.Labels[name] ?? '',
  };
}

export const psCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate')
    .option('-n, --last <n>', 'show the n last created containers (all states)', '-1')
    .option('-l, --latest', 'show the latest created container (all states)')
    .option('-s, --size', 'display total file sizes')
    .option('--format <format>', 'json or a {{.Field}} template')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
    .action(async (o) => {
      const out = (s: string) => void process.stdout.write(s);
      const last = /^[+-]?\d+$/.test(o.last) ? Number(o.last) : NaN;
      if (Number.isNaN(last)) throw invalidArgument(`invalid argument ${JSON.stringify(o.last)} for "-n, --last" flag: strconv.ParseInt: parsing ${JSON.stringify(o.last)}: invalid syntax`);
      const trunc = o.trunc !== false;
      // The docker CLI asks for sizes with -s, or for a template that reads .Size (its first pass).
      const size = !o.quiet && (o.size === true || (typeof o.format === 'string' && fieldsUsed(o.format, CONTAINERS).has('Size')));
      const list = await (await engine(g)).containers.list({ all: o.all === true, limit: o.latest && last === -1 ? 1 : last, size, filters: o.filter as string[] });
      if (o.quiet) {
        // ps's -q wins over any --format (images, volumes and networks do the other way round)
        if (o.format) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
        return out(list.map((c) => (trunc ? c.Id.slice(0, 12) : c.Id) + '\n').join(''));
      }
      const rows = list.map((c) => psRow(c, trunc));
      // -s adds the SIZE column to the default table, as the docker CLI's.
      out(renderFormatted(o.format ?? (o.size === true ? `${CONTAINERS.table}\t{{.Size}}` : undefined), rows, CONTAINERS));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { ps: psCommand });
}
