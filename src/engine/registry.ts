/**
 * Registry use cases: pull, push, login, logout, and a remote manifest. Progress is reported as
 * Docker's JSON-message stream reports it (`{id, status, progressDetail}`: "Pulling fs layer",
 * "Downloading", "Pull complete", "Digest: …", "Status: …"), which the CLI prints as plain lines
 * (progress bars on a terminal) and an API would send as JSON lines. Errors carry Docker's text:
 * `manifest for NAME not found: manifest unknown: …`, `pull access denied for NAME, repository
 * does not exist or may require 'docker login': …`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { copyImage, familiarName, parseReference, storeDestination, storeSource, type CopyEvent, type ImageRecord, type Reference } from '../image/index.js';
import { shortId } from '../lib/digest.js';
import { BerthError, invalidArgument, isBerthError, notFound, unavailable } from '../lib/errors.js';
import { parsePlatform } from '../oci/image-spec.js';
import { ClientConfig, DOCKER_IO_REGISTRY, Registries, RegistryError, berthErrorOf, registryDestination, registrySource, resolveRemote, type RemoteImage } from '../registry/index.js';
import type { ImageService } from './images.js';

/** One message of a pull's or push's progress, as Docker's API streams them. */
export interface ProgressMessage {
  /** The layer (short digest), the tag, or absent for a line of its own. */
  id?: string;
  status: string;
  progressDetail?: { current: number; total?: number };
}

export interface PullRequest {
  /** `busybox`, `host:5000/a/b:1`, `name@sha256:…`. */
  ref: string;
  /** os/arch[/variant]; default: the host's. */
  platform?: string;
  /** Every tag of the repository (`pull -a`). */
  all?: boolean;
  onMessage?: (m: ProgressMessage) => void;
}

export interface PullResult {
  /** The full reference pulled ("docker.io/library/busybox:latest"). */
  ref: string;
  /** Its repository ("docker.io/library/busybox"). */
  repository: string;
  /** The digest the reference resolved to. */
  digest: string;
  id: string;
  upToDate: boolean;
}

export interface PushRequest {
  ref: string;
  /** Every tag of the repository (`push -a`). */
  all?: boolean;
  onMessage?: (m: ProgressMessage) => void;
}

export interface PushResult {
  /** The reference pushed, as Docker shows it ("host:5000/a/b:1"). */
  name: string;
  tag: string | undefined;
  digest: string;
  size: number;
}

/** berth's config directory when the front end names none: ~/.config/berth. */
export function defaultConfigDir(): string {
  return join(homedir(), '.config', 'berth');
}

/** A server as `login`/`logout` take it (`http://host:5000/v2/`, `host:5000`) → the domain credentials are kept under. */
export function serverDomain(server: string | undefined): string {
  if (server === undefined || server === '') return 'docker.io';
  let s = server.trim().replace(/^[a-z]+:\/\//i, '');
  s = s.replace(/\/.*$/, '');
  s = s.toLowerCase();
  if (s === '' || s === DOCKER_IO_REGISTRY) return 'docker.io';
  // The reference grammar's own normalisation (its old spelling of docker.io included).
  return parseReference(`${s}/x`).domain;
}

/** Docker's text for a failed pull of `ref`. */
function pullError(e: unknown, ref: Reference): unknown {
  const re = e instanceof RegistryError ? e : e instanceof BerthError && e.cause instanceof RegistryError ? e.cause : undefined;
  if (!re) return e;
  const msg = e instanceof BerthError ? e.message : re.message;
  if (re.code === 'MANIFEST_UNKNOWN') return notFound(`manifest for ${ref.familiar} not found: ${msg}`, { cause: re });
  if (re.code === 'NAME_UNKNOWN' || re.code === 'DENIED' || re.code === 'UNAUTHORIZED' || re.status === 404 || re.status === 401 || re.status === 403) {
    return notFound(`pull access denied for ${familiarName(ref.name)}, repository does not exist or may require 'docker login': ${msg}`, { cause: re });
  }
  return berthErrorOf(re);
}

export class RegistryService {
  private cfg: ClientConfig | undefined;
  private regs: Registries | undefined;

  constructor(
    private readonly images: ImageService,
    private readonly configDir: string = defaultConfigDir(),
  ) {}

  get config(): ClientConfig {
    return (this.cfg ??= new ClientConfig(this.configDir));
  }

  private registries(): Registries {
    return (this.regs ??= new Registries({ config: this.config }));
  }

  /** Resolves a reference in the registry (mirrors first) without storing anything. */
  async resolve(ref: Reference, platform?: string): Promise<RemoteImage> {
    const p = platform ? parsePlatform(platform) : undefined;
    try {
      return await resolveRemote(this.registries(), ref.domain, ref.path, ref.digest ?? ref.tag ?? 'latest', ref.familiar, p);
    } catch (e) {
      throw pullError(e, ref);
    }
  }

  /** `pull`: one reference, or every tag of its repository. */
  async pull(req: PullRequest): Promise<PullResult[]> {
    const ref = parseReference(req.ref);
    if (!req.all) return [await this.pullOne(ref, req)];
    if (ref.digest || req.ref.slice(req.ref.lastIndexOf('/') + 1).includes(':')) throw invalidArgument("tag can't be used with --all-tags/-a");
    const endpoints = this.registries().pullEndpoints(ref.domain);
    let tags: string[] | undefined;
    let last: unknown;
    for (const e of endpoints) {
      try {
        tags = await this.registries().repository(e, ref.path).tags();
        break;
      } catch (err) {
        last = err;
      }
    }
    if (!tags) {
      const re = last instanceof RegistryError ? last : undefined;
      if (re?.code === 'NAME_UNKNOWN') throw notFound(`repository ${familiarName(ref.name)} not found: ${re.message}`, { cause: re });
      throw pullError(last, ref);
    }
    const out: PullResult[] = [];
    for (const t of tags.sort()) out.push(await this.pullOne(parseReference(`${ref.name}:${t}`), { ...req, all: false }, true));
    const name = familiarName(ref.name);
    req.onMessage?.({ status: out.every((r) => r.upToDate) ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
    return out;
  }

  private async pullOne(ref: Reference, req: PullRequest, quietStatus = false): Promise<PullResult> {
    const say = (m: ProgressMessage) => req.onMessage?.(m);
    const remote = await this.resolve(ref, req.platform);
    const label = ref.digest ? ref.familiar : ref.tag!;
    say({ id: label, status: `Pulling from ${ref.path}` });
    const full = ref.toString();
    let before: string | undefined;
    try {
      before = this.images.resolve(full).id;
    } catch {
      /* not here yet */
    }
    const layers = remote.manifest.parsed.layers;
    const shortOf = (d: string) => shortId(d);
    // An image already here (by its config) shows no layers, as Docker's.
    if (!this.images.images.has(remote.config.digest)) for (const l of layers) say({ id: shortOf(l.digest), status: this.images.content.has(l.digest) ? 'Already exists' : 'Pulling fs layer' });
    const names = ref.tag ? [full] : [];
    const repoDigests = [`${ref.name}@${remote.digest}`];
    const layerSet = new Set(layers.map((l) => l.digest));
    const onEvent = (e: CopyEvent) => {
      if (e.kind === 'blob-progress' && e.digest && layerSet.has(e.digest)) say({ id: shortOf(e.digest), status: 'Downloading', progressDetail: { current: e.bytes, ...(e.size !== undefined ? { total: e.size } : {}) } });
      else if (e.kind === 'blob-done' && layerSet.has(e.digest)) {
        say({ id: shortOf(e.digest), status: 'Verifying Checksum' });
        say({ id: shortOf(e.digest), status: 'Download complete' });
        say({ id: shortOf(e.digest), status: 'Pull complete' });
      }
    };
    const copied = await this.images.writing(async () => {
      try {
        return await copyImage(registrySource(remote, { names, repoDigests, concurrency: this.config.maxConcurrentDownloads(), what: `pull ${ref.familiar}` }), storeDestination(this.images, { layerErrorContext: false }), { onEvent });
      } catch (e) {
        throw pullError(e, ref);
      }
    });
    const id = copied[0]!.id;
    const upToDate = before === id;
    say({ status: `Digest: ${remote.digest}` });
    if (!quietStatus) say({ status: upToDate ? `Status: Image is up to date for ${ref.familiar}` : `Status: Downloaded newer image for ${ref.familiar}` });
    return { ref: full, repository: ref.name, digest: remote.digest, id, upToDate };
  }

  /** `push`: one tag, or every tag of the repository; the manifest last. */
  async push(req: PushRequest): Promise<PushResult[]> {
    const ref = parseReference(req.ref);
    if (ref.digest) throw invalidArgument(`cannot push a digest reference: ${JSON.stringify(req.ref)}`);
    const say = (m: ProgressMessage) => req.onMessage?.(m);
    say({ status: `The push refers to repository [${ref.name}]` });
    const refs = req.all ? this.images.images.refs().filter((r) => r.ref.startsWith(`${ref.name}:`)).map((r) => parseReference(r.ref)) : [ref];
    const missing = () => notFound(`An image does not exist locally with the tag: ${familiarName(ref.name)}`);
    if (refs.length === 0) throw missing();
    const recs = refs.map((r): [Reference, ImageRecord] => {
      try {
        return [r, this.images.resolve(r.toString())];
      } catch (e) {
        if (isBerthError(e, 'NotFound')) throw missing();
        throw e;
      }
    });
    const regs = this.registries();
    const repo = regs.repository(regs.origin(ref.domain), ref.path);
    const out: PushResult[] = [];
    for (const [r, rec] of recs) {
      const label = (d: string) => shortId(rec.layers.find((l) => l.digest === d)?.diffId ?? d);
      const layerSet = new Set(rec.layers.map((l) => l.digest));
      for (const l of [...rec.layers].reverse()) say({ id: label(l.digest), status: 'Preparing' });
      // Repositories of this registry that images holding the blob came from or went to: it is mounted from them.
      const mountFrom = (digest: string) => {
        const repos = new Set<string>();
        for (const img of [rec, ...this.images.images.list()]) {
          if (img.configDigest !== digest && !img.layers.some((l) => l.digest === digest)) continue;
          for (const d of img.repoDigests) {
            const x = parseReference(d);
            if (x.domain === ref.domain && x.path !== ref.path) repos.add(x.path);
          }
        }
        return [...repos];
      };
      const dest = registryDestination(repo, { tag: r.tag, manifestDigest: rec.manifestDigest, mountFrom, chunkSize: this.config.uploadChunkSize() });
      const onEvent = (e: CopyEvent) => {
        if (e.kind === 'blob-skipped' && layerSet.has(e.digest)) {
          const from = dest.mounted.get(e.digest);
          say({ id: label(e.digest), status: from ? `Mounted from ${from}` : 'Layer already exists' });
        } else if (e.kind === 'blob-progress' && e.digest && layerSet.has(e.digest)) say({ id: label(e.digest), status: 'Pushing', progressDetail: { current: e.bytes, ...(e.size !== undefined ? { total: e.size } : {}) } });
        else if (e.kind === 'blob-done' && layerSet.has(e.digest)) say({ id: label(e.digest), status: 'Pushed' });
      };
      try {
        await copyImage(storeSource(this.images, [{ rec, names: [r.toString()] }], { what: `push ${r.familiar}` }), dest, { onEvent });
      } catch (e) {
        if (e instanceof BerthError && e.cause instanceof RegistryError && ['DENIED', 'UNAUTHORIZED'].includes(e.cause.code)) throw unavailable(e.cause.message, { cause: e });
        throw e;
      }
      const pushed = dest.pushed()!;
      // Known by its digest in that repository now (as Docker records it).
      const cur = this.images.images.get(rec.id);
      if (cur) {
        const rd = `${ref.name}@${pushed.digest}`;
        if (!cur.repoDigests.includes(rd)) this.images.images.put({ ...cur, repoDigests: [...cur.repoDigests, rd] });
      }
      say({ status: `${r.tag}: digest: ${pushed.digest} size: ${pushed.size}` });
      out.push({ name: r.familiar, tag: r.tag, digest: pushed.digest, size: pushed.size });
    }
    return out;
  }

  /** `login`: the credentials are tried against the registry's /v2/ and saved only when accepted. */
  async login(server: string | undefined, username: string, password: string): Promise<{ domain: string; file: string }> {
    const domain = serverDomain(server);
    if (username === '') throw invalidArgument('Username is required');
    if (password === '') throw invalidArgument('Password is required');
    const regs = this.registries();
    await regs.ping(regs.origin(domain), { username, password });
    this.config.store(domain, { username, password });
    return { domain, file: this.config.file };
  }

  /** `logout`: forgets the credentials of a registry; whether there were any. */
  logout(server: string | undefined): { domain: string; removed: boolean } {
    const domain = serverDomain(server);
    return { domain, removed: this.config.erase(domain) };
  }

  /** `manifest inspect`: the document the reference names (an index stays an index). */
  async manifest(refStr: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const ref = parseReference(refStr);
    const regs = this.registries();
    let last: unknown;
    for (const e of regs.pullEndpoints(ref.domain)) {
      try {
        const m = await regs.repository(e, ref.path).getManifest(ref.digest ?? ref.tag ?? 'latest');
        return { bytes: m.bytes, mediaType: m.mediaType, digest: m.digest ?? '' };
      } catch (err) {
        last = err;
        if (!e.mirror) break;
      }
    }
    if (last instanceof RegistryError && (last.status === 404 || last.code === 'MANIFEST_UNKNOWN')) throw notFound(`no such manifest: ${ref.toString()}`, { cause: last });
    throw last instanceof RegistryError ? berthErrorOf(last) : last;
  }
}
