/**
 * Output shapes shared by commands, as the docker CLI prints them: tables, `--format json`,
 * `--format table [TEMPLATE]` and Go templates (src/lib/gotemplate).
 *
 * How berth's records look to a template (Go's struct-vs-map distinction):
 * - a listing's row (ps, images, network ls, ...) is a struct of the docker CLI's formatter type
 *   (`*formatter.ContainerContext`, ...): its fields are strings as Docker's methods return them, a
 *   missing field is an error, `.Label "k"` is a method;
 * - an inspect record is a struct where Docker's type is one, and the objects under map-typed
 *   fields (Labels, Options, Networks, Ports, ...; see MAP_FIELDS) are maps. As the docker CLI does,
 *   a template that fails on that typed view is run again on the plain JSON with missingkey=error.
 */
import { invalidArgument } from '../lib/errors.js';
import { cliError } from './exit.js';
import { GO_JSON, goStringMap, goStringSlice, goStruct, parseTemplate, TemplateParseError, toJSON, type Template } from '../lib/gotemplate/index.js';
import { tabwrite } from '../lib/tabwriter.js';

/** Rows padded to their widest cell, three spaces apart (for tables no --format reaches). */
export function renderTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}

/** A listing as the docker CLI's formatter knows it. */
export interface Listing {
  /** The Go type of a row, as errors name it (`*formatter.ContainerContext`). */
  type: string;
  /** The default `table` format. */
  table: string;
  /** Each field's column header (Docker's). */
  headers: Record<string, string>;
}

/** A template error as the docker CLI reports it (its message bare; exit 64 for a parse error where Docker's is). */
/** The docker CLI's own errors of a template (parse 64 or 1, execution 1): printed as they are. */
const templateError = (message: string, exitCode: number) => cliError('InvalidArgument', message, { exitCode });

/** Docker's Format: `table`, `table TEMPLATE`, `json` or a template; `\t` and `\n` written out are tab and newline. */
function prepare(format: string | undefined, listing: Listing): { text: string; table: boolean } {
  let f = format === undefined || format === '' ? 'table' : format;
  if (f === 'table') f = listing.table;
  const table = f.startsWith('table');
  if (table) f = f.slice('table'.length);
  else if (f.trim() === 'json') f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { text: f, table };
}

function parseOrThrow(text: string, name: string, prefix: string, exitCode: number): Template {
  try {
    return parseTemplate(text, name);
  } catch (e) {
    if (e instanceof TemplateParseError) throw templateError(prefix + e.message, exitCode);
    throw e;
  }
}

/** A row as a struct of the listing's type (getters are read when used); its JSON is Docker's (all fields, sorted, HTML escaped). */
function rowValue(row: object, type: string): object {
  const r = goStruct(type, row);
  Object.defineProperty(r, GO_JSON, {
    value: () => toJSON(Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v !== 'function')), true),
    enumerable: false,
  });
  return r;
}

/** The rows of a listing through --format (default: the listing's table), as the docker CLI prints them. */
export function renderFormatted(format: string | undefined, items: readonly object[], listing: Listing): string {
  const { text, table } = prepare(format, listing);
  const tpl = parseOrThrow(text, '', 'template parsing error: ', 1);
  let body = '';
  for (const item of items) {
    try {
      body += tpl.execute(rowValue(item, listing.type)) + '\n';
    } catch (e) {
      throw templateError('template parsing error: ' + (e as Error).message, 1);
    }
  }
  if (!table) return body;
  let header = '';
  try {
    const h: Record<string, unknown> = { ...listing.headers, Label: (name: string) => (name.split('.').pop() ?? '').replace(/[-_]/g, ' ') };
    header = tpl.execute(goStringMap(h), { header: true });
  } catch (e) {
    // the docker CLI ignores the error of a header and keeps what it wrote
    header = (e as { partial?: string }).partial ?? '';
  }
  return tabwrite(header + '\n' + body);
}

/**
 * ps's first pass, as the docker CLI makes it: the --format text as given, run over an empty row,
 * to learn which fields it reads (ps computes sizes only for a template that reads .Size). Its
 * errors are worded `failed to parse template:` / `failed to execute template:`.
 */
export function fieldsUsed(format: string, listing: Listing): Set<string> {
  const used = new Set<string>();
  const probe: Record<string, unknown> = {};
  for (const f of Object.keys(listing.headers)) {
    Object.defineProperty(probe, f, { enumerable: true, get: () => (used.add(f), f === 'Platform' ? null : '') });
  }
  probe.Label = (_name: string) => '';
  let tpl: Template;
  try {
    tpl = parseTemplate(format);
  } catch (e) {
    if (e instanceof TemplateParseError) throw templateError('failed to parse template: ' + e.message, 1);
    throw e;
  }
  try {
    tpl.execute(rowValue(probe, listing.type));
  } catch (e) {
    throw templateError('failed to execute template: ' + (e as Error).message, 1);
  }
  return used;
}

/**
 * One object (info, version) through a template, or as JSON with `json`: what the template wrote
 * and a newline, also when it fails (the docker CLI writes as it goes), then the error.
 */
export function printObject(format: string, item: object, opts: { name?: string; type: string; /** already Go-shaped (goStruct) */ typed?: boolean }): void {
  const tpl = parseOrThrow(format.trim() === 'json' ? '{{json .}}' : format, opts.name ?? '', 'template parsing error: ', 64);
  let text: string;
  try {
    text = tpl.execute(opts.typed ? item : typedView(item, opts.type));
  } catch (e) {
    process.stdout.write(((e as { partial?: string }).partial ?? '') + '\n');
    throw templateError((e as Error).message, 1);
  }
  process.stdout.write(text + '\n');
}

/** Fields whose Docker type is a map (their objects are maps, not structs, to a template). */
const MAP_FIELDS = new Set([
  'Labels', 'Options', 'DriverOpts', 'Networks', 'Ports', 'ExposedPorts', 'Volumes', 'Sysctls', 'Annotations', 'StorageOpt',
  'Tmpfs', 'Data', 'Containers', 'PortBindings', 'Status', 'Services', 'ContainerIDFile', 'Plugins', 'RegistryConfig',
]);

/** Fields whose Docker type is a slice: a null one is Go's nil slice, printed `[]`. */
const SLICE_FIELDS = new Set([
  'Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell', 'Args', 'Binds', 'Links', 'VolumesFrom', 'CapAdd', 'CapDrop', 'Dns', 'DnsOptions', 'DnsSearch',
  'ExtraHosts', 'GroupAdd', 'SecurityOpt', 'Mounts', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'Ulimits', 'BlkioWeightDevice',
  'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'MaskedPaths', 'ReadonlyPaths', 'ExecIDs',
  'RepoTags', 'RepoDigests', 'Layers', 'Aliases', 'DNSNames', 'SecondaryIPAddresses', 'SecondaryIPv6Addresses', 'ConsoleSize', 'Config',
]);

const nilJSON = <T extends object>(o: T): T => Object.defineProperty(o, GO_JSON, { value: () => 'null', enumerable: false });

/** A record's typed view: objects are structs, except under map-typed fields (and LogConfig.Config). */
export function typedView(v: unknown, type = 'struct', field = '', parent = ''): unknown {
  if (Array.isArray(v)) return v.map((e) => typedView(e, 'struct', '', field));
  const isMap = MAP_FIELDS.has(field) || (field === 'Config' && parent === 'LogConfig');
  if (v === null) {
    // Go's nil map or slice: printed map[] or [], marshalled by json as null.
    if (isMap) return nilJSON(goStringMap({}));
    if (SLICE_FIELDS.has(field) && !(field === 'Config' && parent !== 'IPAM')) return nilJSON(goStringSlice([]));
    return v;
  }
  if (typeof v !== 'object') return v;
  if (isMap) {
    const m = Object.fromEntries(Object.entries(v).map(([k, e]) => [k, typedView(e, 'struct', '', field)]));
    return Object.values(m).every((e) => typeof e === 'string') ? goStringMap(m) : m;
  }
  return goStruct(type, Object.fromEntries(Object.entries(v).map(([k, e]) => [k, typedView(e, 'struct', k, field)])));
}

export interface InspectOptions {
  /** The record's Go type (`volume.Volume`), as an error names it. */
  type?: string;
  /** Run a failing template again over the plain JSON (docker inspect does, except for volumes). */
  rawFallback?: boolean;
}

/**
 * Items as `inspect` commands print them: a JSON array, or the template once per item. Errors of
 * single items are collected: the output of the others is written, then all errors are thrown as one.
 */
export function printInspect(items: readonly object[], format: string | undefined, opts: InspectOptions = {}): void {
  if (!format) {
    process.stdout.write(JSON.stringify(items, null, 4) + '\n');
    return;
  }
  if (format === 'json') {
    // the docker CLI's json.Marshal of the list: one line, HTML escaped
    process.stdout.write(JSON.stringify(items).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n');
    return;
  }
  const tpl = parseOrThrow(format, '', 'template parsing error: ', 64);
  let out = '';
  const errors: string[] = [];
  for (const item of items) {
    try {
      out += tpl.execute(typedView(item, opts.type ?? 'struct')) + '\n';
    } catch (e) {
      if (opts.rawFallback === false) {
        errors.push('template parsing error: ' + (e as Error).message);
        continue;
      }
      try {
        out += tpl.execute(JSON.parse(JSON.stringify(item)), { missingKeyError: true }) + '\n';
      } catch (e2) {
        errors.push('template parsing error: ' + (e2 as Error).message);
      }
    }
  }
  process.stdout.write(out === '' ? '\n' : out);
  if (errors.length) throw templateError(errors.join('\n'), 1);
}
