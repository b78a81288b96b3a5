/**
 * The registry client's configuration: one `config.json` in berth's config directory, in Docker's
 * format (`auths` with base64 `auth`, `credsStore`, `credHelpers`) plus berth's own keys:
 *
 *   {
 *     "auths": { "127.0.0.1:5000": { "auth": "dTpwdw==" } },
 *     "credsStore": "pass",                      // docker-credential-pass for every registry
 *     "credHelpers": { "example.test": "ecr" },  // docker-credential-ecr for that one
 *     "registries": {                             // berth's: per registry (domain as in references)
 *       "docker.io": { "mirrors": ["http://127.0.0.1:5000"] },
 *       "example.test:5000": { "insecure": true },
 *       "quay.example": { "mirrors": ["http://127.0.0.1:5001"], "mirrorsOnly": true }
 *     },
 *     "maxConcurrentDownloads": 3
 *   }
 *
 * The directory: $BERTH_CONFIG, else ~/.config/berth — decided by the front end (the CLI) and
 * handed down (berth keeps its own, apart from the docker CLI's ~/.docker). Per-registry TLS
 * files follow Docker's layout under it: certs.d/HOST:PORT/{ca.crt,*.crt,client.cert,client.key}.
 * Credentials are keyed by the reference's domain ("docker.io", "127.0.0.1:5000").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument, reason, unavailable } from '../lib/errors.js';

export interface AuthEntry {
  /** base64 of "username:password". */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [k: string]: unknown;
}

export interface RegistryHostConfig {
  /** Base URLs (http://host:port) tried in order before the registry itself, for pulls. */
  mirrors?: string[];
  /** Plain HTTP (127.0.0.0/8 and localhost are always). */
  insecure?: boolean;
  /** Pull from the mirrors only, never from the registry itself (offline use; tests). */
  mirrorsOnly?: boolean;
}

export interface ConfigFileData {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  registries?: Record<string, RegistryHostConfig>;
  maxConcurrentDownloads?: number;
  /** Push blobs in PATCH chunks of this many bytes (default: one streamed PUT). */
  uploadChunkSize?: number;
  [k: string]: unknown;
}

export interface Credentials {
  username: string;
  password: string;
}

/** What a TLS connection to one registry host uses besides the system CAs. */
export interface TlsFiles {
  ca: Buffer[];
  cert?: Buffer;
  key?: Buffer;
}

function readJson(path: string): ConfigFileData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as ConfigFileData;
  } catch (e) {
    throw invalidArgument(`loading config file ${path}: ${reason(e)}`);
  }
}

/** Runs docker-credential-NAME with one action; its stdout, or undefined when it says the server has none. */
function helper(name: string, action: 'get' | 'store' | 'erase', input: string): string | undefined {
  const r = spawnSync(`docker-credential-${name}`, [action], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw unavailable(`error getting credentials - err: ${reason(r.error)}, out: \`\``);
  if (r.status !== 0) {
    const out = (r.stdout || r.stderr || '').trim();
    if (/credentials not found/i.test(out)) return undefined;
    throw unavailable(`error ${action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing'} credentials - err: exit status ${r.status}, out: \`${out}\``);
  }
  return r.stdout;
}

export class ClientConfig {
  readonly file: string;
  private data: ConfigFileData;

  constructor(readonly dir: string) {
    this.file = join(dir, 'config.json');
    this.data = readJson(this.file);
  }

  get raw(): Readonly<ConfigFileData> {
    return this.data;
  }

  registry(domain: string): RegistryHostConfig {
    return this.data.registries?.[domain] ?? {};
  }

  maxConcurrentDownloads(): number {
    const n = this.data.maxConcurrentDownloads;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 3;
  }

  uploadChunkSize(): number | undefined {
    const n = this.data.uploadChunkSize;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
  }

  private helperFor(domain: string): string | undefined {
    return this.data.credHelpers?.[domain] ?? (this.data.credsStore || undefined);
  }

  /** The credentials stored for a registry (by its domain), or undefined. */
  credentials(domain: string): Credentials | undefined {
    const h = this.helperFor(domain);
    if (h) {
      const out = helper(h, 'get', domain);
      if (out === undefined) return undefined;
      try {
        const v = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!v.Secret) return undefined;
        return { username: v.Username ?? '', password: v.Secret };
      } catch (e) {
        throw unavailable(`error getting credentials - err: ${reason(e)}, out: \`${out.trim()}\``);
      }
    }
    const a = this.data.auths?.[domain];
    if (!a) return undefined;
    if (typeof a.auth === 'string' && a.auth !== '') {
      const text = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i < 0) throw invalidArgument(`${this.file}: auths[${JSON.stringify(domain)}].auth: invalid auth configuration (no "username:password")`);
      return { username: text.slice(0, i), password: text.slice(i + 1) };
    }
    if (typeof a.username === 'string' && typeof a.password === 'string') return { username: a.username, password: a.password };
    return undefined;
  }

  /** Saves credentials (in the helper when one is configured, else base64 in `auths`). */
  store(domain: string, c: Credentials): void {
    const h = this.helperFor(domain);
    if (h) {
      helper(h, 'store', JSON.stringify({ ServerURL: domain, Username: c.username, Secret: c.password }));
      this.data.auths = { ...(this.data.auths ?? {}), [domain]: {} };
    } else {
      this.data.auths = { ...(this.data.auths ?? {}), [domain]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
    }
    this.save();
  }

  /** Forgets a registry's credentials; whether there were any. */
  erase(domain: string): boolean {
    const had = this.data.auths?.[domain] !== undefined;
    const h = this.helperFor(domain);
    if (h) helper(h, 'erase', domain);
    if (this.data.auths) delete this.data.auths[domain];
    this.save();
    return had;
  }

  /** Written to a temporary name and renamed, readable only by its owner (it holds secrets). */
  private save(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(this.data, null, '\t'), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** certs.d/HOST:PORT: CA certificates (*.crt) and a client certificate pair (client.cert, client.key). */
  tlsFiles(hostPort: string): TlsFiles {
    const dir = join(this.dir, 'certs.d', hostPort);
    const out: TlsFiles = { ca: [] };
    if (!existsSync(dir)) return out;
    for (const n of readdirSync(dir).sort()) {
      if (n.endsWith('.crt')) out.ca.push(readFileSync(join(dir, n)));
      else if (n === 'client.cert') out.cert = readFileSync(join(dir, n));
      else if (n === 'client.key') out.key = readFileSync(join(dir, n));
    }
    if ((out.cert === undefined) !== (out.key === undefined)) throw invalidArgument(`${dir}: client.cert and client.key go together (one of them is missing)`);
    return out;
  }
}
