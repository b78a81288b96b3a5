/**
 * `pull` and `manifest inspect`, with Docker's flags and output; and the renderer of pull and push
 * progress that `push`, `run` and `create` share: Docker's plain lines when the output is not a
 * terminal (`ID: Pulling fs layer`, `ID: Pull complete`, no Downloading lines), a line per layer
 * redrawn in place with a bar when it is.
 */
import type { Command } from 'commander';
import type { ProgressMessage } from '../engine/index.js';
import { engine, type GlobalOptions } from './context.js';
import { runDefined } from './program.js';

const BAR = 50;

function size(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) (v /= 1000), i++;
  return i === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1).replace(/\.?0+$/, '')}${units[i]}`;
}

/** Docker's progress text: `[=====>      ]  1.2MB/3.4MB`. */
export function progressText(current: number, total: number | undefined): string {
  if (!total || total <= 0) return size(current);
  const filled = Math.min(BAR, Math.floor((current / total) * BAR));
  const bar = filled >= BAR ? '='.repeat(BAR) : '='.repeat(filled) + '>' + ' '.repeat(BAR - filled - 1);
  return `[${bar}]  ${size(current)}/${size(total)}`;
}

/** Prints progress messages to `out`: plain lines, or (on a terminal) a line per id redrawn in place. */
export function progressPrinter(out: NodeJS.WritableStream & { isTTY?: boolean }, tty = out.isTTY === true): (m: ProgressMessage) => void {
  if (!tty) {
    return (m) => {
      if (m.progressDetail) return; // Downloading/Pushing: only on a terminal
      out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
    };
  }
  const lines = new Map<string, number>();
  const drawn = new Map<string, number>();
  let count = 0;
  return (m) => {
    // A bar is redrawn at most ten times a second (and when it is full).
    if (m.id && m.progressDetail && m.progressDetail.current !== m.progressDetail.total) {
      const now = Date.now();
      if (now - (drawn.get(m.id) ?? 0) < 100) return;
      drawn.set(m.id, now);
    }
    const text = `${m.id ? `${m.id}: ` : ''}${m.status}${m.progressDetail ? ` ${progressText(m.progressDetail.current, m.progressDetail.total)}` : ''}`;
    if (!m.id) {
      out.write(`${text}\n`);
      lines.clear();
      count = 0;
      return;
    }
    const at = lines.get(m.id);
    if (at === undefined) {
      lines.set(m.id, count++);
      out.write(`${text}\n`);
      return;
    }
    const up = count - at;
    out.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
  };
}

/** The same reference with its default tag written out? Docker says so first: "Using default tag: latest". */
export function namesNoTag(ref: string): boolean {
  return !ref.includes('@') && !ref.slice(ref.lastIndexOf('/') + 1).includes(':');
}

const pull = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('-a, --all-tags', 'download all tagged images in the repository')
    .option('--platform <platform>', 'os/arch[/variant] of the image (default: the host\'s)')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--disable-content-trust', 'skip image verification (berth does not verify signatures)')
    .action(async (name: string, o: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
      const e = await engine(g);
      const say = o.quiet ? undefined : progressPrinter(process.stdout);
      if (!o.allTags && namesNoTag(name)) say?.({ status: 'Using default tag: latest' });
      const res = await e.images.pull({ ref: name, all: o.allTags === true, platform: o.platform, onMessage: say });
      if (o.allTags) {
        if (res[0]) process.stdout.write(`${res[0].repository}\n`);
      } else process.stdout.write(`${res[0]!.ref}\n`);
    });

/** A manifest's fields in the order Docker's types marshal them (schemaVersion, mediaType, config, layers…). */
function ordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(ordered);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const order = ['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'manifests', 'size', 'digest', 'urls', 'annotations', 'platform', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'features', 'subject'];
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in o) out[k] = ordered(o[k]);
  for (const [k, x] of Object.entries(o)) if (!(k in out)) out[k] = ordered(x);
  return out;
}

const manifest = (cmd: Command, g: GlobalOptions) => {
  cmd.description('manage image manifests');
  cmd
    .command('inspect')
    .description('display an image manifest, or manifest list')
    .argument('<ref...>', '[MANIFEST_LIST] MANIFEST')
    .option('--insecure', 'allow communication with an insecure registry')
    .option('-v, --verbose', 'output additional info including layers and platform')
    .action(async (refs: string[]) => {
      const reg = await (await engine(g)).registry();
      const m = await reg.manifest(refs[refs.length - 1]!);
      process.stdout.write(`${JSON.stringify(ordered(JSON.parse(m.bytes.toString('utf8'))), null, '\t')}\n`);
    });
  return cmd;
};

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { pull, manifest });
}
