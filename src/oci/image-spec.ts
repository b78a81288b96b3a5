/**
 * The OCI image spec (and the Docker image manifest v2, schema 2, that it grew from) as types,
 * media types and structural validation. Pure data: no I/O.
 *
 * The parse functions take the JSON bytes as stored or fetched and a `where` naming the document
 * ("manifest sha256:…"), and every error names `where` and the JSON path:
 * `manifest sha256:…: layers[2].digest: not a digest`.
 *
 * Unknown fields are kept as they are (Docker configs carry container_config, docker_version, …).
 */
import { endianness } from 'node:os';
import { invalidArgument } from '../lib/errors.js';
import { isDigest, type Digest } from '../lib/digest.js';

// ---------------------------------------------------------------------------------------------
// Media types

export const MediaType = {
  // OCI image spec
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** Non-distributable layers are deprecated in the spec but still met in the wild. */
  ociLayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** The empty JSON object `{}` (2 bytes), used as the config of artifacts. */
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayout: 'application/vnd.oci.layout.header.v1+json',

  // Docker image manifest v2, schema 2
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Uncompressed and zstd Docker layer types: not in the schema 2 text, but written by tools. */
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  /** Docker schema 1: recognised only to be refused with a clear reason. */
  dockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** The canonical empty descriptor's content, digest and size (OCI 1.1). */
export const EMPTY_JSON = '{}';
export const EMPTY_JSON_DIGEST: Digest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);
const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MediaType.dockerSchema1Manifest, MediaType.dockerSchema1SignedManifest]);

export type Compression = 'none' | 'gzip' | 'zstd';

const LAYER_TYPES: ReadonlyMap<string, Compression> = new Map<string, Compression>([
  [MediaType.ociLayer, 'none'],
  [MediaType.ociLayerGzip, 'gzip'],
  [MediaType.ociLayerZstd, 'zstd'],
  [MediaType.ociLayerNonDistributable, 'none'],
  [MediaType.ociLayerNonDistributableGzip, 'gzip'],
  [MediaType.ociLayerNonDistributableZstd, 'zstd'],
  [MediaType.dockerLayer, 'none'],
  [MediaType.dockerLayerForeign, 'none'],
  [MediaType.dockerLayerGzip, 'gzip'],
  [MediaType.dockerLayerForeignGzip, 'gzip'],
  [MediaType.dockerLayerZstd, 'zstd'],
]);

/** An image manifest type (OCI or Docker schema 2). */
export function isManifestType(mt: string | undefined): boolean {
  return mt !== undefined && MANIFEST_TYPES.has(mt);
}

/** An image index type (OCI index or Docker manifest list). */
export function isIndexType(mt: string | undefined): boolean {
  return mt !== undefined && INDEX_TYPES.has(mt);
}

/** An image config type (OCI or Docker). */
export function isConfigType(mt: string | undefined): boolean {
  return mt !== undefined && CONFIG_TYPES.has(mt);
}

/** A filesystem layer type berth can unpack, with its compression; undefined for anything else. */
export function isLayerType(mt: string | undefined): { compression: Compression } | undefined {
  const c = mt === undefined ? undefined : LAYER_TYPES.get(mt);
  return c === undefined ? undefined : { compression: c };
}

/** A layer the image spec says not to push to other registries (foreign / non-distributable). */
export function isNonDistributable(mt: string): boolean {
  return mt.includes('.nondistributable.') || mt.includes('.foreign.');
}

// ---------------------------------------------------------------------------------------------
// Types

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Base64 of the content itself, embedded. */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: 2;
  /** Always set in Docker schema 2; optional (but usually set) in OCI. */
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Durations in nanoseconds, as Docker writes them. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/**
 * The execution parameters of an image. Docker writes `null` for unset lists and maps (Cmd,
 * Entrypoint, Volumes, Labels, OnBuild, …); parseImageConfig drops those, so a field is either
 * absent or of its type.
 */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  OnBuild?: string[];
  Shell?: string[];
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: History[];
}

// ---------------------------------------------------------------------------------------------
// Validation

type Obj = Record<string, unknown>;

/** RFC 6838 type/subtype, as the OCI descriptor spec requires of mediaType. */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return `the number ${String(v)}`;
  return String(v);
}

/** "must be <what>, not <v>", or "missing (must be <what>)" when there is no value. */
function want(v: unknown, what: string): string {
  return v === undefined ? `missing (must be ${what})` : `must be ${what}, not ${describe(v)}`;
}

class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, msg: string): never {
    throw invalidArgument(path === '' ? `${this.where}: ${msg}` : `${this.where}: ${path}: ${msg}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, want(v, 'an object'));
    return v as Obj;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, want(v, 'a string'));
    return v;
  }

  optStr(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined) this.str(o[key], path);
  }

  optBool(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') this.fail(path, want(o[key], 'a boolean'));
  }

  optInt(o: Obj, key: string, path: string): void {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) this.fail(path, want(v, 'an integer'));
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, want(v, 'an array'));
    return v;
  }

  strArr(v: unknown, path: string): void {
    this.arr(v, path).forEach((s, i) => this.str(s, `${path}[${i}]`));
  }

  optStrArr(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined) this.strArr(o[key], path);
  }

  strMap(v: unknown, path: string): void {
    const o = this.obj(v, path);
    for (const [k, s] of Object.entries(o)) this.str(s, `${path}[${JSON.stringify(k)}]`);
  }

  optStrMap(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined) this.strMap(o[key], path);
  }

  /** A map whose values are objects (ExposedPorts, Volumes: `{"80/tcp": {}}`). */
  objMap(v: unknown, path: string): void {
    const o = this.obj(v, path);
    for (const [k, s] of Object.entries(o)) this.obj(s, `${path}[${JSON.stringify(k)}]`);
  }

  digest(v: unknown, path: string): Digest {
    if (!isDigest(v)) this.fail(path, v === undefined ? 'missing (must be a digest)' : `not a digest: ${describe(v)}`);
    return v;
  }

  mediaType(v: unknown, path: string): string {
    const s = this.str(v, path);
    if (!MEDIA_TYPE_RE.test(s)) this.fail(path, `not a media type: ${JSON.stringify(s)}`);
    return s;
  }

  platform(v: unknown, path: string): void {
    const p = this.obj(v, path);
    this.str(p.architecture, `${path}.architecture`);
    this.str(p.os, `${path}.os`);
    this.optStr(p, 'os.version', `${path}["os.version"]`);
    this.optStrArr(p, 'os.features', `${path}["os.features"]`);
    this.optStr(p, 'variant', `${path}.variant`);
    this.optStrArr(p, 'features', `${path}.features`);
  }

  descriptor(v: unknown, path: string): Descriptor {
    const d = this.obj(v, path);
    this.mediaType(d.mediaType, `${path}.mediaType`);
    this.digest(d.digest, `${path}.digest`);
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
      this.fail(`${path}.size`, want(d.size, 'a non-negative integer'));
    }
    this.optStrArr(d, 'urls', `${path}.urls`);
    this.optStrMap(d, 'annotations', `${path}.annotations`);
    if (d.data !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(this.str(d.data, `${path}.data`))) this.fail(`${path}.data`, 'not base64');
    if (d.platform !== undefined) this.platform(d.platform, `${path}.platform`);
    if (d.artifactType !== undefined) this.mediaType(d.artifactType, `${path}.artifactType`);
    return d as unknown as Descriptor;
  }

  schemaVersion(o: Obj): void {
    if (o.schemaVersion !== 2) {
      this.fail('schemaVersion', o.schemaVersion === undefined ? 'missing (must be 2)' : want(o.schemaVersion, '2'));
    }
  }
}

function parseJson(bytes: Buffer | Uint8Array | string, where: string): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`${where}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The reason a document's top-level mediaType is not of the `want`ed kind, or undefined. */
function mediaTypeProblem(mt: string, want: 'manifest' | 'index'): string | undefined {
  if (SCHEMA1_TYPES.has(mt)) return `Docker schema 1 manifests are not supported (media type ${JSON.stringify(mt)})`;
  if (want === 'manifest') {
    if (MANIFEST_TYPES.has(mt)) return undefined;
    if (INDEX_TYPES.has(mt)) return `media type ${JSON.stringify(mt)} is an image index, not a manifest`;
  } else {
    if (INDEX_TYPES.has(mt)) return undefined;
    if (MANIFEST_TYPES.has(mt)) return `media type ${JSON.stringify(mt)} is an image manifest, not an index`;
  }
  return `unknown media type ${JSON.stringify(mt)}`;
}

/** Validates an image manifest already parsed from JSON. */
export function validateManifest(v: unknown, where = 'manifest'): Manifest {
  const c = new Checker(where);
  const m = c.obj(v, '');
  if (m.mediaType !== undefined) {
    const problem = mediaTypeProblem(c.str(m.mediaType, 'mediaType'), 'manifest');
    if (problem) c.fail('mediaType', problem);
  } else if (m.manifests !== undefined && m.config === undefined) {
    c.fail('', 'an image index, not a manifest (it has "manifests" and no "config")');
  }
  c.schemaVersion(m);
  if (m.artifactType !== undefined) c.mediaType(m.artifactType, 'artifactType');
  if (m.config === undefined) c.fail('config', 'missing');
  c.descriptor(m.config, 'config');
  if (m.layers === undefined) c.fail('layers', 'missing');
  c.arr(m.layers, 'layers').forEach((l, i) => c.descriptor(l, `layers[${i}]`));
  if (m.subject !== undefined) c.descriptor(m.subject, 'subject');
  c.optStrMap(m, 'annotations', 'annotations');
  return m as unknown as Manifest;
}

/** Validates an image index (or Docker manifest list) already parsed from JSON. */
export function validateIndex(v: unknown, where = 'index'): Index {
  const c = new Checker(where);
  const x = c.obj(v, '');
  if (x.mediaType !== undefined) {
    const problem = mediaTypeProblem(c.str(x.mediaType, 'mediaType'), 'index');
    if (problem) c.fail('mediaType', problem);
  } else if (x.config !== undefined && x.manifests === undefined) {
    c.fail('', 'an image manifest, not an index (it has "config" and no "manifests")');
  }
  c.schemaVersion(x);
  if (x.artifactType !== undefined) c.mediaType(x.artifactType, 'artifactType');
  if (x.manifests === undefined) c.fail('manifests', 'missing');
  c.arr(x.manifests, 'manifests').forEach((d, i) => c.descriptor(d, `manifests[${i}]`));
  if (x.subject !== undefined) c.descriptor(x.subject, 'subject');
  c.optStrMap(x, 'annotations', 'annotations');
  return x as unknown as Index;
}

const NULLABLE_CONFIG_FIELDS = ['ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'Labels', 'OnBuild', 'Shell', 'Healthcheck'] as const;

/**
 * Validates an image config already parsed from JSON. Drops Docker's `null`s from `config` (see
 * ContainerConfig) in place.
 */
export function validateImageConfig(v: unknown, where = 'image config'): ImageConfig {
  const c = new Checker(where);
  const o = c.obj(v, '');
  c.optStr(o, 'created', 'created');
  c.optStr(o, 'author', 'author');
  c.str(o.architecture, 'architecture');
  c.str(o.os, 'os');
  c.optStr(o, 'os.version', '["os.version"]');
  c.optStrArr(o, 'os.features', '["os.features"]');
  c.optStr(o, 'variant', 'variant');
  if (o.config === null) delete o.config;
  if (o.config !== undefined) {
    const cfg = c.obj(o.config, 'config');
    for (const k of NULLABLE_CONFIG_FIELDS) if (cfg[k] === null) delete cfg[k];
    c.optStr(cfg, 'User', 'config.User');
    if (cfg.ExposedPorts !== undefined) c.objMap(cfg.ExposedPorts, 'config.ExposedPorts');
    c.optStrArr(cfg, 'Env', 'config.Env');
    c.optStrArr(cfg, 'Entrypoint', 'config.Entrypoint');
    c.optStrArr(cfg, 'Cmd', 'config.Cmd');
    if (cfg.Volumes !== undefined) c.objMap(cfg.Volumes, 'config.Volumes');
    c.optStr(cfg, 'WorkingDir', 'config.WorkingDir');
    c.optStrMap(cfg, 'Labels', 'config.Labels');
    c.optStr(cfg, 'StopSignal', 'config.StopSignal');
    c.optBool(cfg, 'ArgsEscaped', 'config.ArgsEscaped');
    c.optStrArr(cfg, 'OnBuild', 'config.OnBuild');
    c.optStrArr(cfg, 'Shell', 'config.Shell');
    if (cfg.Healthcheck !== undefined) {
      const h = c.obj(cfg.Healthcheck, 'config.Healthcheck');
      if (h.Test === null) delete h.Test;
      c.optStrArr(h, 'Test', 'config.Healthcheck.Test');
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) c.optInt(h, k, `config.Healthcheck.${k}`);
    }
  }
  if (o.rootfs === undefined) c.fail('rootfs', 'missing');
  const rootfs = c.obj(o.rootfs, 'rootfs');
  if (rootfs.type !== 'layers') c.fail('rootfs.type', want(rootfs.type, '"layers"'));
  if (rootfs.diff_ids === undefined) c.fail('rootfs.diff_ids', 'missing');
  c.arr(rootfs.diff_ids, 'rootfs.diff_ids').forEach((d, i) => c.digest(d, `rootfs.diff_ids[${i}]`));
  if (o.history === null) delete o.history;
  if (o.history !== undefined) {
    c.arr(o.history, 'history').forEach((hv, i) => {
      const h = c.obj(hv, `history[${i}]`);
      for (const k of ['created', 'created_by', 'author', 'comment']) c.optStr(h, k, `history[${i}].${k}`);
      c.optBool(h, 'empty_layer', `history[${i}].empty_layer`);
    });
  }
  return o as unknown as ImageConfig;
}

/**
 * Parses and validates an image manifest (OCI or Docker schema 2). `where` names the document in
 * errors: `manifest sha256:…: layers[2].digest: not a digest: …`.
 */
export function parseManifest(bytes: Buffer | Uint8Array | string, where = 'manifest'): Manifest {
  return validateManifest(parseJson(bytes, where), where);
}

/** Parses and validates an image index (OCI) or manifest list (Docker schema 2). */
export function parseIndex(bytes: Buffer | Uint8Array | string, where = 'index'): Index {
  return validateIndex(parseJson(bytes, where), where);
}

/** Parses and validates an image config (OCI or Docker). */
export function parseImageConfig(bytes: Buffer | Uint8Array | string, where = 'image config'): ImageConfig {
  return validateImageConfig(parseJson(bytes, where), where);
}

/**
 * The kind of a manifest-like document from its mediaType, or from its shape when mediaType is
 * absent (OCI allows that): what a registry client needs before choosing parseManifest/parseIndex.
 */
export function documentKind(bytes: Buffer | Uint8Array | string, where = 'manifest'): 'manifest' | 'index' {
  const c = new Checker(where);
  const o = c.obj(parseJson(bytes, where), '');
  if (o.mediaType !== undefined) {
    const mt = c.str(o.mediaType, 'mediaType');
    if (MANIFEST_TYPES.has(mt)) return 'manifest';
    if (INDEX_TYPES.has(mt)) return 'index';
    c.fail('mediaType', mediaTypeProblem(mt, 'manifest') ?? `unknown media type ${JSON.stringify(mt)}`);
  }
  if (o.manifests !== undefined && o.config === undefined) return 'index';
  return 'manifest';
}

// ---------------------------------------------------------------------------------------------
// Platforms

/** Node's process.arch → GOARCH, the spelling image platforms use. */
const NODE_TO_GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le', // big-endian POWER is told apart in defaultPlatform
  ppc: 'ppc',
  s390x: 's390x',
  s390: 's390',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};

/**
 * Normalises a platform the way containerd does, so equal platforms compare equal: lowercase os,
 * arch aliases (x86_64/x86-64 → amd64, aarch64 → arm64, i386/i686 → 386, armhf → arm/v7, armel →
 * arm/v6), arm variants as "vN" with v7 the default, arm64's "v8" and amd64's "v1" as no variant.
 */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (arch) {
    case 'i386':
    case 'i686':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  const out: Platform = { architecture: arch, os };
  if (variant !== '') out.variant = variant;
  if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined) out['os.features'] = p['os.features'];
  if (p.features !== undefined) out.features = p.features;
  return out;
}

/** Variants a host of (arch, variant) can also run, newest first; '' is "no variant". */
function compatibleVariants(arch: string, variant: string): string[] {
  const ladder = arch === 'arm' ? ['v5', 'v6', 'v7', 'v8'] : arch === 'amd64' ? ['', 'v2', 'v3', 'v4'] : undefined;
  if (ladder === undefined) return [variant];
  const i = ladder.indexOf(variant);
  return i < 0 ? [variant] : ladder.slice(0, i + 1).reverse();
}

/**
 * Whether an image for platform `p` runs where `want` is asked for: the same os and architecture
 * once normalised, and a variant `want` can run (arm/v7 runs v7, v6 and v5 images; amd64/v3 runs
 * v3, v2 and plain amd64). A `want` without a variant takes its architecture's default (arm → v7,
 * amd64 → v1, arm64 → v8), as containerd and Docker do.
 */
export function platformMatches(p: Platform, want: Platform): boolean {
  const a = normalizePlatform(p);
  const b = normalizePlatform(want);
  if (a.os !== b.os || a.architecture !== b.architecture) return false;
  return compatibleVariants(b.architecture, b.variant ?? '').includes(a.variant ?? '');
}

/** The platform this process runs on: linux and Node's arch as GOARCH, arm's variant included. */
export function defaultPlatform(arch: string = process.arch, armVersion?: string | number): Platform {
  const architecture = arch === 'ppc64' && endianness() === 'BE' ? 'ppc64' : NODE_TO_GOARCH[arch] ?? arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm') {
    const v = armVersion ?? (process.config.variables as Record<string, unknown>).arm_version;
    p.variant = `v${v === undefined || v === '' ? 7 : String(v)}`;
  } else if (architecture === 'arm64') {
    p.variant = 'v8';
  }
  return p;
}

/** "os/arch[/variant]" as docker's --platform writes it. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** Parses "os/arch[/variant]" as docker's --platform takes it; throws InvalidArgument naming the value. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw invalidArgument(`platform ${JSON.stringify(s)}: expected "os/arch" or "os/arch/variant"`);
  }
  const p: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2] !== undefined) p.variant = parts[2];
  return normalizePlatform(p);
}
