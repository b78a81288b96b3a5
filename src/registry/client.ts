/**
 * A client of one registry (the OCI distribution spec, Docker's Registry HTTP API v2): the `/v2/`
 * ping, manifests (GET, HEAD, PUT by tag or digest), blobs (GET, HEAD), uploads (POST, then one PUT
 * or PATCH chunks and a closing PUT) and cross-repository mounts. Each request carries the
 * Authorization its scope needs (auth.ts) and is retried once after a 401 with the challenge
 * answered. Errors are BerthErrors whose message is the registry's error as Docker prints it
 * (`manifest unknown: manifest unknown`); the use cases put Docker's context in front.
 */
import type { Readable } from 'node:stream';
import { isBerthError, notFound, unavailable, type BerthError } from '../lib/errors.js';
import { Authorizer } from './auth.js';
import type { ClientConfig } from './config.js';
import { Http, readBody, type HttpRequest, type HttpResponse } from './http.js';

/** The host that serves docker.io (what Docker's registry package names it). */
export const DOCKER_IO_REGISTRY = 'registry-1.docker.io';

/** Manifests larger than this are refused (as containerd and distribution do). */
export const MAX_MANIFEST = 4 << 20;

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
].join(', ');

/** A registry error as the distribution spec's error body gives it. */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    /** MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED, ... (or "" when the body named none). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** errcode's text: "manifest unknown: manifest unknown" (the code lowercased, then the message). */
export function registryErrorText(code: string, message: string): string {
  const c = code.toLowerCase().replace(/_/g, ' ');
  return c ? `${c}: ${message}` : message;
}

async function errorOf(res: HttpResponse, what: string): Promise<RegistryError> {
  let code = '';
  let message = '';
  try {
    const body = await readBody(res, 1 << 20, what);
    const v = JSON.parse(body.toString()) as { errors?: { code?: string; message?: string }[] };
    const e = v.errors?.[0];
    if (e) {
      code = e.code ?? '';
      message = e.message ?? '';
    }
  } catch {
    /* no body (HEAD), or not a distribution error body */
  }
  if (!code) {
    if (res.status === 401) (code = 'UNAUTHORIZED'), (message ||= 'authentication required');
    else if (res.status === 403) (code = 'DENIED'), (message ||= 'requested access to the resource is denied');
    else if (res.status === 429) (code = 'TOOMANYREQUESTS'), (message ||= 'too many requests');
    else message = `${what}: unexpected status ${res.status}`;
  }
  return new RegistryError(res.status, code, registryErrorText(code, message));
}

/** The BerthError for a registry error: 404s are NotFound, the rest Unavailable. */
export function berthErrorOf(e: RegistryError, prefix = ''): BerthError {
  const msg = prefix + e.message;
  return e.status === 404 || e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN' || e.code === 'BLOB_UNKNOWN' ? notFound(msg, { cause: e }) : unavailable(msg, { cause: e });
}

export interface Endpoint {
  /** "http://127.0.0.1:5000" or "https://example.test". */
  base: string;
  /** The domain as references name it ("docker.io"): credentials and certs.d are looked up by it. */
  domain: string;
  mirror: boolean;
}

export interface RegistryOptions {
  config: ClientConfig;
  /** Retries and backoff of the HTTP layer (tests make them short). */
  attempts?: number;
  backoffMs?: number;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The registries of one client: endpoints (mirrors first for pulls), HTTP with TLS, auth. */
export class Registries {
  readonly http: Http;
  private readonly auths = new Map<string, Authorizer>();

  constructor(readonly o: RegistryOptions) {
    this.http = new Http({ tls: (hp) => o.config.tlsFiles(hp), attempts: o.attempts, backoffMs: o.backoffMs });
  }

  /** The registry itself for a domain: docker.io → its registry host; plain HTTP for loopback and insecure ones. */
  origin(domain: string): Endpoint {
    const host = domain === 'docker.io' ? DOCKER_IO_REGISTRY : domain;
    const hostname = host.replace(/:\d+$/, '');
    // Loopback and insecure registries speak plain HTTP, unless certs.d holds a CA for them.
    const plain = (isLoopback(hostname) || this.o.config.registry(domain).insecure === true) && this.o.config.tlsFiles(host).ca.length === 0;
    return { base: `${plain ? 'http' : 'https'}://${host}`, domain, mirror: false };
  }

  /** Where to pull from: the configured mirrors, in order, then the registry. */
  pullEndpoints(domain: string): Endpoint[] {
    const cfg = this.o.config.registry(domain);
    const mirrors = (cfg.mirrors ?? []).map((m): Endpoint => ({ base: m.replace(/\/+$/, ''), domain, mirror: true }));
    return cfg.mirrorsOnly ? mirrors : [...mirrors, this.origin(domain)];
  }

  authorizer(e: Endpoint): Authorizer {
    // A mirror has credentials of its own (by its host), the registry by its domain.
    const credKey = e.mirror ? new URL(e.base).host : e.domain;
    let a = this.auths.get(credKey);
    if (!a) this.auths.set(credKey, (a = new Authorizer(this.http, () => this.o.config.credentials(credKey))));
    return a;
  }

  repository(e: Endpoint, path: string): Repository {
    return new Repository(this, e, path);
  }

  /** GET /v2/ with the given credentials (login): resolves when they are accepted. */
  async ping(e: Endpoint, creds?: { username: string; password: string }): Promise<void> {
    const url = `${e.base}/v2/`;
    const a = creds ? new Authorizer(this.http, () => creds) : this.authorizer(e);
    let res = await this.http.send({ method: 'GET', url });
    if (res.status === 401) {
      res.body.resume();
      const header = await a.challenged(new URL(e.base).host, res.headers['www-authenticate'], []);
      if (header === undefined) throw unavailable(`login attempt to ${url} failed with status: 401 Unauthorized`);
      res = await this.http.send({ method: 'GET', url, headers: { Authorization: header } });
    }
    res.body.resume();
    if (res.status === 401) throw unavailable(`login attempt to ${url} failed with status: 401 Unauthorized`);
    if (res.status !== 200) throw unavailable(`login attempt to ${url} failed with status: ${res.status} ${res.body.statusMessage ?? ''}`.trimEnd());
  }
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string | undefined;
}

/** One repository of one endpoint. */
export class Repository {
  private readonly auth: Authorizer;
  private readonly host: string;

  constructor(
    private readonly regs: Registries,
    readonly endpoint: Endpoint,
    readonly path: string,
  ) {
    this.auth = regs.authorizer(endpoint);
    this.host = new URL(endpoint.base).host;
  }

  private url(tail: string): string {
    return `${this.endpoint.base}/v2/${this.path}/${tail}`;
  }

  /** Sends with auth for `scopes`; after a 401 answers the challenge and sends once more (a Buffer body or none). */
  async send(req: HttpRequest, scopes: readonly string[]): Promise<HttpResponse> {
    const withAuth = async (h: string | undefined): Promise<HttpRequest> => ({ ...req, headers: { ...(req.headers ?? {}), ...(h ? { Authorization: h } : {}) } });
    const verb = req.method.charAt(0) + req.method.slice(1).toLowerCase();
    try {
      let res = await this.regs.http.send(await withAuth(await this.auth.header(this.host, scopes)));
      if (res.status === 401 && (req.body === undefined || Buffer.isBuffer(req.body))) {
        res.body.resume();
        const h = await this.auth.challenged(this.host, res.headers['www-authenticate'], scopes);
        if (h !== undefined) res = await this.regs.http.send(await withAuth(h));
        else res = await this.regs.http.send(await withAuth(undefined));
      }
      return res;
    } catch (e) {
      // As Go's url.Error: `Head "http://…/v2/a/b/manifests/1": no basic auth credentials`.
      if (isBerthError(e) && !e.message.startsWith(`${verb} "`)) throw unavailable(`${verb} ${JSON.stringify(req.url)}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  private pull(): string[] {
    return [`repository:${this.path}:pull`];
  }

  private push(): string[] {
    return [`repository:${this.path}:pull,push`];
  }

  /** GET a manifest by tag or digest; its digest from Docker-Content-Digest (or undefined). */
  async getManifest(ref: string): Promise<FetchedManifest> {
    const res = await this.send({ method: 'GET', url: this.url(`manifests/${ref}`), headers: { Accept: MANIFEST_ACCEPT } }, this.pull());
    if (res.status !== 200) throw await errorOf(res, `manifest ${ref}`);
    const len = Number(res.headers['content-length']);
    if (Number.isFinite(len) && len > MAX_MANIFEST) {
      res.body.destroy();
      throw unavailable(`manifest ${ref}: ${len} bytes is larger than the ${MAX_MANIFEST} bytes a manifest may have`);
    }
    const bytes = await readBody(res, MAX_MANIFEST, `manifest ${ref}`).catch((e: unknown) => {
      throw isBerthError(e) ? unavailable(`manifest ${ref}: larger than the ${MAX_MANIFEST} bytes a manifest may have`) : e;
    });
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const d = res.headers['docker-content-digest'];
    return { bytes, mediaType, digest: typeof d === 'string' && d ? d : undefined };
  }

  /** HEAD a manifest: its digest, type and size, or undefined when it is not there. */
  async headManifest(ref: string): Promise<{ digest: string | undefined; mediaType: string; size: number } | undefined> {
    const res = await this.send({ method: 'HEAD', url: this.url(`manifests/${ref}`), headers: { Accept: MANIFEST_ACCEPT } }, this.pull());
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await errorOf(res, `manifest ${ref}`);
    const d = res.headers['docker-content-digest'];
    return { digest: typeof d === 'string' ? d : undefined, mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!, size: Number(res.headers['content-length'] ?? 0) };
  }

  /** PUT a manifest under a tag or its digest; the digest the registry gives. */
  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.send({ method: 'PUT', url: this.url(`manifests/${ref}`), headers: { 'Content-Type': mediaType }, body: bytes }, this.push());
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await errorOf(res, `manifest ${ref}`);
    res.body.resume();
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  }

  /** The repository's tags (every page of /tags/list). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let url: string | undefined = this.url('tags/list');
    for (let i = 0; url && i < 1000; i++) {
      const res = await this.send({ method: 'GET', url, headers: { Accept: 'application/json' } }, this.pull());
      if (res.status !== 200) throw await errorOf(res, 'tags list');
      const v = JSON.parse((await readBody(res, 16 << 20, 'tags list')).toString()) as { tags?: string[] | null };
      out.push(...(v.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      url = link ? new URL(link[1]!, this.endpoint.base).toString() : undefined;
    }
    return out;
  }

  /** HEAD a blob: its size, or undefined when the repository does not have it. */
  async headBlob(digest: string, scopes = this.pull()): Promise<number | undefined> {
    const res = await this.send({ method: 'HEAD', url: this.url(`blobs/${digest}`) }, scopes);
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await errorOf(res, `blob ${digest}`);
    return Number(res.headers['content-length'] ?? 0);
  }

  /** GET a blob (redirects to storage followed); its body stream. */
  async openBlob(digest: string, start = 0): Promise<Readable> {
    const res = await this.send({ method: 'GET', url: this.url(`blobs/${digest}`), headers: start > 0 ? { Range: `bytes=${start}-` } : {} }, this.pull());
    if (res.status !== 200 && res.status !== 206) throw await errorOf(res, `blob ${digest}`);
    if (start > 0 && res.status !== 206) {
      res.body.destroy();
      throw unavailable(`blob ${digest}: the registry does not resume (no range)`);
    }
    return res.body;
  }

  private async startUpload(query: string, scopes: string[]): Promise<{ status: number; location: string | undefined }> {
    const res = await this.send({ method: 'POST', url: this.url(`blobs/uploads/${query}`), headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) }, scopes);
    if (res.status !== 201 && res.status !== 202) throw await errorOf(res, 'blob upload');
    res.body.resume();
    const loc = res.headers.location;
    return { status: res.status, location: loc ? new URL(loc, this.endpoint.base).toString() : undefined };
  }

  /** Mounts a blob from another repository of the registry; false when the registry started an upload instead (then cancelled). */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const r = await this.startUpload(`?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, [...this.push(), `repository:${from}:pull`]);
    if (r.status === 201) return true;
    if (r.location) {
      const res = await this.send({ method: 'DELETE', url: r.location }, this.push()).catch(() => undefined);
      res?.body.resume();
    }
    return false;
  }

  /** Uploads a blob of known digest and size: one PUT (streamed), or PATCH chunks of `chunkSize` and a closing PUT. */
  async uploadBlob(digest: string, size: number, data: Readable, opts: { chunkSize?: number } = {}): Promise<void> {
    const scopes = this.push();
    const start = await this.startUpload('', scopes);
    if (!start.location) throw unavailable(`blob upload ${digest}: the registry gave no upload location`);
    let location = start.location;
    const withDigest = (loc: string) => {
      const u = new URL(loc);
      u.searchParams.set('digest', digest);
      return u.toString();
    };
    if (!opts.chunkSize) {
      const res = await this.send({ method: 'PUT', url: withDigest(location), headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body: data }, scopes);
      if (res.status !== 201) throw await errorOf(res, `blob upload ${digest}`);
      res.body.resume();
      return;
    }
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const flush = async () => {
      if (pendingLen === 0) return;
      const chunk = Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      const res = await this.send(
        { method: 'PATCH', url: location, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` }, body: chunk },
        scopes,
      );
      if (res.status !== 202) throw await errorOf(res, `blob upload ${digest}`);
      res.body.resume();
      offset += chunk.length;
      if (res.headers.location) location = new URL(res.headers.location, this.endpoint.base).toString();
    };
    for await (const c of data) {
      pending.push(c as Buffer);
      pendingLen += (c as Buffer).length;
      if (pendingLen >= opts.chunkSize) await flush();
    }
    await flush();
    const res = await this.send({ method: 'PUT', url: withDigest(location), headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) }, scopes);
    if (res.status !== 201) throw await errorOf(res, `blob upload ${digest}`);
    res.body.resume();
  }
}
