/** `stats` (the engine's readings as Docker's table, live or once) and `top`. */
import type { Command } from 'commander';
import type { ContainerStats } from '../engine/index.js';
import { humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { STATS } from './listings.js';
import { renderFormatted, renderTable } from './output.js';
import { runDefined } from './program.js';

/** Memory in binary units, as docker stats prints it (1.5MiB / 1.944GiB). */
function binarySize(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < u.length - 1; i++) n /= 1024;
  return `${i ? n.toFixed(i > 1 ? 3 : 2).replace(/\.?0+$/, '') : n}${u[i]}`;
}

/** A reading as docker stats shows it. */
function row(s: ContainerStats, trunc: boolean, asked: string[]) {
  const id = trunc ? s.Id.slice(0, 12) : s.Id;
  return {
    /** As the user named it (docker stats NAME), else the id. */
    Container: asked.find((a) => a === s.Name || s.Id.startsWith(a)) ?? id,
    ID: id,
    Name: s.Name,
    CPUPerc: `${s.CPUPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.MemoryUsage)} / ${binarySize(s.MemoryLimit)}`,
    MemPerc: `${s.MemoryPercent.toFixed(2)}%`,
    NetIO: `${humanSize(s.NetworkRx)} / ${humanSize(s.NetworkTx)}`,
    BlockIO: `${humanSize(s.BlockRead)} / ${humanSize(s.BlockWrite)}`,
    PIDs: String(s.PIDs),
  };
}

const statsCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('resource usage of containers (from their cgroups), live or once')
    .argument('[container...]')
    .option('-a, --all', 'all containers (default: the running ones)')
    .option('--no-stream', 'print once and exit')
    .option('--no-trunc', 'do not truncate ids')
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const render = (rows: ReturnType<typeof row>[]) => renderFormatted(o.format, rows, STATS);
      const stream = o.stream !== false;
      for await (const readings of containers.stats({ containers: names, all: o.all === true, stream })) {
        const text = render(readings.map((s) => row(s, o.trunc !== false, names)));
        process.stdout.write(stream && process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
      }
    });

/** The docker CLI's top table: tab-separated cells aligned at least 20 wide, 3 apart (its tabwriter); the last cell as it is. */
function topTable(titles: string[], rows: string[][]): string {
  const all = [titles, ...rows];
  const widths = titles.map((_, i) => Math.max(20, ...all.filter((r) => i < r.length - 1).map((r) => (r[i] ?? '').length + 3)));
  return all.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('') + '\n').join('');
}

const topCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('the processes of a container (ps of the host; ps options after the name, -ef by default)')
    .argument('<container>')
    .argument('[ps-options...]')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (n: string, psArgs: string[]) => {
      const t = (await engine(g)).containers.top(n, psArgs.join(' '));
      process.stdout.write(topTable(t.Titles, t.Processes));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { stats: statsCommand, top: topCommand });
}
