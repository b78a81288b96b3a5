/** `ps` (also `container ls`): the engine's list of containers as Docker's table, ids or a template. */
import type { Command } from 'commander';
import type { ContainerSummary, PortRecord } from '../engine/index.js';
import { ago, humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { sprintf } from '../lib/gotemplate/index.js';
import { CONTAINERS, goTime, labelsColumn } from './listings.js';
import { fieldsUsed, renderFormatted } from './output.js';
import { collect, runDefined } from './program.js';

/** ps's PORTS: "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp" is Docker's; no ranges here. */
function portsColumn(ports: PortRecord[]): string {
  return ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
}

/** Docker's Ellipsis: at most `n` characters, the last one "…" when cut. */
const ellipsis = (s: string, n: number) => ([...s].length <= n ? s : [...s].slice(0, n - 1).join('') + '…');

type Inspected = { Config: { Labels?: Record<string, string> | null }; Mounts?: { Type?: string; Name?: string; Source?: string; Driver?: string }[]; NetworkSettings?: { Networks?: Record<string, unknown> | null }; HostConfig?: { NetworkMode?: string } };

/**
 * A row of ps as the docker CLI's ContainerContext gives it to a template (all strings); Labels,
 * Mounts and Networks come from the container's inspect record, read only if a template asks.
 */
/** The daemon's COMMAND: the path, then the arguments, those with a space in single quotes. */
const commandLine = (cmd: string[]) => [cmd[0] ?? '', ...cmd.slice(1).map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');

function psRow(c: ContainerSummary, trunc: boolean, inspect: () => unknown, virtualSize: (() => number) | undefined) {
  let details: Inspected | undefined;
  const d = () => (details ??= inspect() as Inspected);
  const labels = () => d().Config.Labels ?? {};
  const row = {
    Command: sprintf('%q', [trunc ? ellipsis(commandLine(c.Command), 20) : commandLine(c.Command)]),
    CreatedAt: goTime(c.Created, true),
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: c.Image,
    get Labels() {
      return labelsColumn(labels());
    },
    get LocalVolumes() {
      return String((d().Mounts ?? []).filter((m) => m.Type === 'volume').length);
    },
    get Mounts() {
      return (d().Mounts ?? []).map((m) => (trunc ? ellipsis(m.Name || m.Source || '', 15) : m.Name || m.Source || '')).join(',');
    },
    Names: c.Name,
    get Networks() {
      const n = Object.keys(d().NetworkSettings?.Networks ?? {});
      return (n.length ? n : [d().HostConfig?.NetworkMode ?? '']).sort().join(',');
    },
    Platform: null,
    Ports: portsColumn(c.Ports),
    RunningFor: ago(c.Created),
    get Size() {
      return virtualSize ? `${humanSize(0)} (virtual ${humanSize(virtualSize())})` : humanSize(0);
    },
    State: c.State,
    Status: c.Status,
    Label: (name: string) => labels()[name] ?? '',
  };
  return row;
}

export const psCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate')
    .option('--format <format>', 'json or a {{.Field}} template')
    .option('-f, --filter <filter>', 'status=, name=, id=, label=, ancestor=, exited=', collect, [])
    .action(async (o) => {
      const out = (s: string) => void process.stdout.write(s);
      const list = (await engine(g)).containers.list({ all: o.all === true, filters: o.filter as string[] });
      const id = (c: { Id: string }) => (o.trunc === false ? c.Id : c.Id.slice(0, 12));
      if (o.quiet) {
        // ps's -q wins over any --format (images, volumes and networks do the other way round)
        if (o.format) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
        return out(list.map((c) => id(c) + '\n').join(''));
      }
      const { containers, images } = await engine(g);
      const size = o.format ? fieldsUsed(o.format, CONTAINERS).has('Size') : false;
      const imageSize = (id: string) => () => {
        try {
          return images.inspect(id).Size;
        } catch {
          return 0;
        }
      };
      const rows = list.map((c) => psRow(c, o.trunc !== false, () => containers.inspect(c.Id), size ? imageSize(c.ImageID) : undefined));
      out(renderFormatted(o.format, rows, CONTAINERS));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { ps: psCommand });
}
