/**
 * Image commands with Docker's names, flags and output: images (image ls), image inspect,
 * history, tag, rmi (image rm), image prune, import, save, load, starter.
 */
import type { Command } from 'commander';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ImageSummary } from '../engine/index.js';
import { invalidArgument, notFound } from '../lib/errors.js';
import { ago, goTime, humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { HISTORY, IMAGES, IMAGES_DIGESTS } from './listings.js';
import { renderFormatted } from './output.js';
import { inspectEach } from './inspect.js';
import { collect, confirm, eachName, notFoundTolerated, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/**
 * The rows of one image as the docker CLI makes them: one per tag of each repository (one per tag
 * and digest with --digests), then one per repository known only by digest, or one `<none>` row.
 */
function imageRows(i: ImageSummary, o: { digests: boolean; trunc: boolean }) {
  // Docker's fields, in the order its JSON has them.
  const row = (Repository: string, Tag: string, Digest: string) => ({
    Containers: 'N/A',
    CreatedAt: goTime(i.Created * 1000),
    CreatedSince: ago(i.Created * 1000),
    Digest,
    ID: o.trunc ? shortId(i.Id) : i.Id,
    Repository,
    SharedSize: 'N/A',
    Size: humanSize(i.Size),
    Tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(i.Size, 4),
  });
  if (i.RepoTags.length === 0 && i.RepoDigests.length === 0) return [row('<none>', '<none>', '<none>')];
  const tags = new Map<string, string[]>();
  for (const t of i.RepoTags) {
    const c = t.lastIndexOf(':');
    const [repo, tag] = c > t.lastIndexOf('/') ? [t.slice(0, c), t.slice(c + 1)] : [t, 'latest'];
    tags.set(repo, [...(tags.get(repo) ?? []), tag]);
  }
  const digests = new Map<string, string[]>();
  for (const d of i.RepoDigests) {
    const [repo = '', dg = ''] = d.split('@');
    digests.set(repo, [...(digests.get(repo) ?? []), dg]);
  }
  const rows = [];
  for (const [repo, ts] of tags) {
    const ds = o.digests ? (digests.get(repo) ?? []) : [];
    digests.delete(repo);
    for (const t of ts) {
      if (ds.length === 0) rows.push(row(repo, t, '<none>'));
      for (const d of ds) rows.push(row(repo, t, d));
    }
  }
  for (const [repo, ds] of digests) {
    if (o.digests) for (const d of ds) rows.push(row(repo, '<none>', d));
    else rows.push(row(repo, '<none>', ''));
  }
  return rows;
}

const ls = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('list images')
    .argument('[reference]', 'only images matching this repository[:tag]')
    .option('-a, --all', 'show all images')
    .option('-q, --quiet', 'only image ids')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <filter>', 'filter: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE', collect, [])
    .option('--format <format>', 'json, table, or a {{.Field}} template')
    .action(async (reference: string | undefined, o) => {
      const svc = (await engine(g)).images;
      const filters = [...(o.filter as string[]), ...(reference ? [`reference=${reference}`] : [])];
      const list = svc.list({ all: o.all === true, filters });
      const rows = list.flatMap((i) => imageRows(i, { digests: o.digests === true, trunc: o.trunc !== false }));
      // a template of one's own wins over -q (as the docker CLI's images)
      if (o.quiet && (!o.format || o.format === 'table')) {
        out(rows.map((r) => r.ID + '\n').join(''));
        return;
      }
      out(renderFormatted(o.format, rows, o.digests ? IMAGES_DIGESTS : IMAGES));
    });

const inspect = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('show details of images as JSON')
    .argument('<image...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .action(async (names: string[], o) => {
      const svc = (await engine(g)).images;
      await inspectEach(names, (n) => svc.inspect(n), o.format);
    });

const history = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('show the history of an image')
    .argument('<image>')
    .option('-H, --human', 'human readable sizes and dates', true)
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate')
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (name: string, o) => {
      const svc = (await engine(g)).images;
      const rows = svc.history(name).map((h) => ({
        ID: h.Id === '<missing>' ? h.Id : o.trunc === false ? h.Id : shortId(h.Id),
        CreatedSince: h.Created ? ago(h.Created * 1000) : 'N/A',
        CreatedAt: h.Created ? new Date(h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '',
        CreatedBy: o.trunc === false || h.CreatedBy.length <= 45 ? h.CreatedBy : h.CreatedBy.slice(0, 44) + '…',
        Size: humanSize(h.Size),
        Comment: h.Comment,
      }));
      if (o.quiet) return out(rows.map((r) => r.ID + '\n').join(''));
      out(renderFormatted(o.format, rows, HISTORY));
    });

const rm = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('remove images')
    .argument('<image...>')
    .option('-f, --force', 'force removal')
    .option('--no-prune', 'accepted for docker compatibility')
    .action(async (names: string[], o) => {
      const svc = (await engine(g)).images;
      await eachName(
        names,
        (n) => {
          for (const e of svc.remove(n, { force: o.force === true })) out(e.Untagged ? `Untagged: ${e.Untagged}\n` : `Deleted: ${e.Deleted}\n`);
        },
        { done: () => {}, tolerated: notFoundTolerated(o.force === true) },
      );
    });

const prune = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('remove unused images')
    .option('-a, --all', 'remove all images without a container, not just dangling ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (o) => {
      if (!o.force && !(await confirm(o.all ? 'This will remove all images without at least one container associated to them.' : 'This will remove all dangling images.'))) return;
      const svc = (await engine(g)).images;
      const r = svc.prune({ all: o.all === true });
      if (r.deleted.length) out('Deleted Images:\n' + r.deleted.map((d) => `deleted: ${d}\n`).join('') + '\n');
      out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`);
    });

const tag = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string) => {
      (await engine(g)).images.tag(source, target);
    });

const imp = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('import a root filesystem tar (file or - for stdin) as an image')
    .argument('<file>')
    .argument('[reference]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the image', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('--platform <platform>', 'accepted for docker compatibility')
    .action(async (file: string, reference: string | undefined, o) => {
      // The docker CLI opens the file itself: a missing one is its own error.
      if (file !== '-' && !existsSync(file)) throw cliError('NotFound', `open ${file}: no such file or directory`);
      const svc = (await engine(g)).images;
      const src: Readable = file === '-' ? process.stdin : createReadStream(resolve(file));
      const rec = await svc.importTar(src, { ref: reference, changes: o.change as string[], message: o.message, source: file === '-' ? '-' : file });
      out(rec.id + '\n');
    });

const save = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('save images to a tar archive (docker-archive; oci-archive with --format oci)')
    .argument('<image...>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--format <format>', 'docker-archive (default), oci-archive, or oci-dir (a directory, with -o)', 'docker-archive')
    .action(async (names: string[], o) => {
      const svc = (await engine(g)).images;
      if (o.format === 'oci-dir') {
        if (!o.output) throw invalidArgument('save --format oci-dir needs -o DIRECTORY');
        const { saveLayoutDir } = await import('../engine/index.js');
        await saveLayoutDir(svc, names, resolve(o.output));
        return;
      }
      if (!['docker-archive', 'oci-archive', 'oci', 'docker'].includes(o.format)) throw invalidArgument(`save: unknown format ${JSON.stringify(o.format)} (docker-archive, oci-archive, oci-dir)`);
      if (!o.output && process.stdout.isTTY) throw invalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const { saveArchive } = await import('../engine/index.js');
      if (o.output && !existsSync(dirname(resolve(o.output)))) throw notFound(`failed to save image: invalid output path: directory ${JSON.stringify(dirname(resolve(o.output)))} does not exist`);
      const dest: Writable = o.output ? createWriteStream(resolve(o.output)) : process.stdout;
      await saveArchive(svc, names, dest, { format: o.format === 'oci' || o.format === 'oci-archive' ? 'oci-archive' : 'docker-archive', file: o.output ? resolve(o.output) : undefined });
    });

const load = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('load images from a tar archive (docker-archive, oci-archive, gzip or not)')
    .option('-i, --input <file>', 'read from a file instead of stdin')
    .option('-q, --quiet', 'no progress output')
    .action(async (o) => {
      const svc = (await engine(g)).images;
      const { loadArchive } = await import('../engine/index.js');
      if (o.input && !existsSync(o.input)) throw cliError('NotFound', `open ${resolve(o.input)}: no such file or directory`);
      const src: Readable = o.input ? createReadStream(resolve(o.input)) : process.stdin;
      const loaded = await loadArchive(svc, src, { source: o.input ?? 'stdin' });
      for (const l of loaded) out(l.ref ? `Loaded image: ${l.ref}\n` : `Loaded image ID: ${l.id}\n`);
    });


const starter = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("make the busybox starter image from the host's busybox-static")
    .argument('[reference]', 'tag', 'busybox:latest')
    .action(async (ref: string) => {
      const rec = await (await engine(g)).images.starter(ref);
      out(rec.id + '\n');
    });

const image = (cmd: Command, g: GlobalOptions) => {
  cmd.description('manage images');
  ls(cmd.command('ls').alias('list'), g);
  inspect(cmd.command('inspect'), g);
  history(cmd.command('history'), g);
  rm(cmd.command('rm').alias('remove'), g);
  prune(cmd.command('prune'), g);
  tag(cmd.command('tag'), g);
  imp(cmd.command('import'), g);
  save(cmd.command('save'), g);
  load(cmd.command('load'), g);
};

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { image, images: ls, history, rmi: rm, tag, import: imp, save, load, starter });
}
