/** `ps` (also `container ls`): the engine's list of containers as Docker's table, ids or a template. */
import type { Command } from 'commander';
import type { PortRecord } from '../engine/index.js';
import { ago } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { renderFormatted, renderTable } from './output.js';
import { collect, runDefined } from './program.js';

/** ps's PORTS: "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp" is Docker's; no ranges here. */
function portsColumn(ports: PortRecord[]): string {
  return ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
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
      if (o.quiet) return out(list.map((c) => id(c) + '\n').join(''));
      const rows = list.map((c) => {
        const command = JSON.stringify(c.Command.join(' '));
        return { ID: id(c), Image: c.Image, Command: o.trunc === false || command.length <= 22 ? command : command.slice(0, 20) + '…"', CreatedAt: c.Created, RunningFor: ago(c.Created), Status: c.Status, State: c.State, Ports: portsColumn(c.Ports), Names: c.Name };
      });
      if (o.format) return out(renderFormatted(o.format, rows));
      out(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { ps: psCommand });
}
