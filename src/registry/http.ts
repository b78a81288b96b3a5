/**
 * HTTP for the registry client: one request with its response streamed, following redirects (a
 * redirect to another host drops the Authorization header: a blob's storage must not see the
 * registry's credentials), retrying 429 and 5xx answers and refused or reset connections with
 * backoff (Retry-After honoured) when the request body can be sent again, and TLS with the
 * system CAs plus the registry's own (certs.d).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { unavailable } from '../lib/errors.js';
import type { TlsFiles } from './config.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A Buffer can be sent again (retries, redirects); a stream once. */
  body?: Buffer | Readable;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The final URL (after redirects). */
  url: string;
  body: IncomingMessage;
}

export interface HttpOptions {
  /** TLS files for a host ("host:port"). */
  tls?: (hostPort: string) => TlsFiles;
  /** Tries of a request that can be sent again (default 4). */
  attempts?: number;
  /** The first backoff in ms (default 250; doubled each try, at most 10 s unless Retry-After says more, up to 60 s). */
  backoffMs?: number;
}

const MAX_REDIRECTS = 10;
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

function hostPort(u: URL): string {
  return u.port ? `${u.hostname}:${u.port}` : u.hostname;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After in ms: seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s.trim() === '') return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export class Http {
  private readonly tlsCache = new Map<string, TlsFiles>();

  constructor(private readonly o: HttpOptions = {}) {}

  private tlsFor(u: URL): { ca?: string[] | Buffer[]; cert?: Buffer; key?: Buffer } {
    if (u.protocol !== 'https:' || !this.o.tls) return {};
    const hp = hostPort(u);
    let t = this.tlsCache.get(hp);
    if (!t) this.tlsCache.set(hp, (t = this.o.tls(hp)));
    const out: { ca?: string[] | Buffer[]; cert?: Buffer; key?: Buffer } = {};
    if (t.ca.length) out.ca = [...rootCertificates.map((c) => Buffer.from(c)), ...t.ca];
    if (t.cert && t.key) {
      out.cert = t.cert;
      out.key = t.key;
    }
    return out;
  }

  private once(req: HttpRequest, url: URL): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'User-Agent': 'berth/0.1.0', ...(req.headers ?? {}) };
      if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
      const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const r = make(url, { method: req.method, headers, ...this.tlsFor(url) }, resolve);
      r.on('error', reject);
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        const body = req.body;
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      }
    });
  }

  /** Sends `req`; the response of the last try (any status), redirects followed. Network errors: Unavailable. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const attempts = replayable ? this.o.attempts ?? 4 : 1;
    let delay = this.o.backoffMs ?? 250;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.follow(req);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt < attempts && code !== undefined && RETRY_CODES.has(code)) {
          await sleep(delay);
          delay = Math.min(delay * 2, 10_000);
          continue;
        }
        const verb = req.method.charAt(0) + req.method.slice(1).toLowerCase();
        throw unavailable(`${verb} ${JSON.stringify(req.url)}: ${(e as Error).message}`, { cause: e });
      }
      if ((res.status === 429 || res.status >= 500) && attempt < attempts) {
        res.body.resume();
        const after = retryAfterMs(res.headers['retry-after']);
        await sleep(after !== undefined ? Math.min(after, 60_000) : delay);
        delay = Math.min(delay * 2, 10_000);
        continue;
      }
      return res;
    }
  }

  private async follow(req: HttpRequest): Promise<HttpResponse> {
    let url = new URL(req.url);
    let cur = req;
    const origin = url.host;
    for (let i = 0; ; i++) {
      const res = await this.once(cur, url);
      const status = res.statusCode ?? 0;
      const loc = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || !loc || i >= MAX_REDIRECTS) return { status, headers: res.headers, url: url.toString(), body: res };
      // A stream was sent already: its redirect cannot be followed.
      if (cur.body !== undefined && !Buffer.isBuffer(cur.body)) return { status, headers: res.headers, url: url.toString(), body: res };
      res.resume();
      url = new URL(loc, url);
      const headers = { ...(cur.headers ?? {}) };
      if (url.host !== origin) {
        for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      }
      cur = status === 303 ? { method: cur.method === 'HEAD' ? 'HEAD' : 'GET', url: url.toString(), headers } : { ...cur, url: url.toString(), headers };
    }
  }
}

/** The whole body (at most `limit` bytes; more is an error). */
export async function readBody(res: HttpResponse, limit = 4 << 20, what = 'response'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw unavailable(`${what}: larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
