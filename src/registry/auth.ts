/**
 * Registry authentication as Docker does it: anonymous first; on a 401 the WWW-Authenticate
 * challenge says how. `Basic realm=…` → the stored username and password; `Bearer realm=…,
 * service=…,scope=…` → a token from the realm (with the credentials as Basic auth when there
 * are any, anonymously otherwise), cached per realm, service and scope until it expires, and sent
 * as `Authorization: Bearer …` on the retried request and on later ones.
 */
import { unavailable } from '../lib/errors.js';
import type { Credentials } from './config.js';
import { readBody, type Http } from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer' | string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="https://…",service="…",scope="a b"`. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header === undefined ? [] : [header]) {
    const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*)))?\s*,?/gy;
    let cur: Challenge | undefined;
    let m: RegExpExecArray | null;
    while (re.lastIndex < h.length && (m = re.exec(h)) !== null) {
      if (m[0] === '') break;
      const [, name, quoted, bare] = m;
      if (quoted === undefined && bare === undefined) {
        cur = { scheme: name!.toLowerCase(), params: {} };
        out.push(cur);
        // The scheme may be followed by a parameter without a comma: "Bearer realm=…".
        continue;
      }
      if (cur) cur.params[name!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!;
    }
  }
  return out;
}

interface Token {
  value: string;
  expires: number;
}

export class Authorizer {
  private readonly tokens = new Map<string, Token>();
  /** Per registry host: the challenge met, so that later requests carry their auth at once. */
  private readonly challenges = new Map<string, Challenge>();

  constructor(
    private readonly http: Http,
    /** Credentials for a registry's domain (undefined: anonymous). */
    private readonly creds: () => Credentials | undefined,
  ) {}

  private tokenKey(c: Challenge, scopes: readonly string[]): string {
    return `${c.params.realm}\n${c.params.service ?? ''}\n${[...scopes].sort().join(' ')}`;
  }

  /** The Authorization header for a request to `host` needing `scopes`, when its challenge is known. */
  async header(host: string, scopes: readonly string[]): Promise<string | undefined> {
    const c = this.challenges.get(host);
    if (!c) return undefined;
    return this.answer(c, scopes, false);
  }

  /** Learns the challenge of a 401 and returns the header to retry with; undefined when there is nothing to try. */
  async challenged(host: string, wwwAuthenticate: string | string[] | undefined, scopes: readonly string[]): Promise<string | undefined> {
    const list = parseChallenges(wwwAuthenticate);
    const c = list.find((x) => x.scheme === 'bearer') ?? list.find((x) => x.scheme === 'basic');
    if (!c) return undefined;
    const known = this.challenges.get(host);
    this.challenges.set(host, c);
    // A token that was refused is dropped: a new one is fetched (the scope may have grown).
    if (c.scheme === 'bearer') this.tokens.delete(this.tokenKey(c, this.scopesOf(c, scopes)));
    if (known && known.scheme === 'basic' && c.scheme === 'basic') return undefined; // the credentials were refused
    return this.answer(c, scopes, true);
  }

  /** The scopes to ask for: the request's, or the challenge's own when the request named none. */
  private scopesOf(c: Challenge, scopes: readonly string[]): string[] {
    if (scopes.length) return [...scopes];
    return c.params.scope ? c.params.scope.split(' ').filter(Boolean) : [];
  }

  private async answer(c: Challenge, scopes: readonly string[], fresh: boolean): Promise<string | undefined> {
    const cred = this.creds();
    if (c.scheme === 'basic') {
      if (!cred) {
        if (fresh) throw unavailable('no basic auth credentials');
        return undefined;
      }
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
    }
    if (c.scheme !== 'bearer' || !c.params.realm) return undefined;
    const want = this.scopesOf(c, scopes);
    const key = this.tokenKey(c, want);
    const t = this.tokens.get(key);
    if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
    const token = await this.fetchToken(c, want, cred);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  private async fetchToken(c: Challenge, scopes: readonly string[], cred: Credentials | undefined): Promise<Token> {
    const u = new URL(c.params.realm!);
    if (c.params.service) u.searchParams.set('service', c.params.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (cred) {
      headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      u.searchParams.set('account', cred.username);
    }
    const res = await this.http.send({ method: 'GET', url: u.toString(), headers });
    const body = await readBody(res, 1 << 20, 'token response');
    if (res.status === 401 || res.status === 403) throw unavailable(`${res.status === 401 ? 'unauthorized' : 'denied'}: ${tokenErrorText(body) ?? 'incorrect username or password'}`);
    if (res.status !== 200) throw unavailable(`getting a token from ${JSON.stringify(u.origin + u.pathname)}: unexpected status ${res.status}`);
    let v: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      v = JSON.parse(body.toString()) as typeof v;
    } catch {
      throw unavailable(`getting a token from ${JSON.stringify(u.origin + u.pathname)}: the answer is not JSON`);
    }
    const value = v.token || v.access_token;
    if (!value) throw unavailable(`getting a token from ${JSON.stringify(u.origin + u.pathname)}: the answer holds no token`);
    // Docker's default lifetime is 60 s; a little is kept back for the clock and the round trip.
    const lifetime = typeof v.expires_in === 'number' && v.expires_in > 0 ? v.expires_in : 60;
    const issued = v.issued_at ? Date.parse(v.issued_at) : NaN;
    const from = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
    return { value, expires: from + lifetime * 1000 - 5000 };
  }
}

function tokenErrorText(body: Buffer): string | undefined {
  try {
    const v = JSON.parse(body.toString()) as { details?: string; errors?: { message?: string }[] };
    return v.details ?? v.errors?.[0]?.message;
  } catch {
    return undefined;
  }
}
