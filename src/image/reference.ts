/**
 * Image references, parsed and normalised as Docker does (the grammar of the distribution
 * reference package, then Docker's normalisation of "familiar" names):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] remote-name
 *   domain           := host [":" port-number]
 *   host             := domain-name | "[" IPv6address "]"
 *   domain-name      := domain-component ["." domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   port-number      := /[0-9]+/
 *   remote-name      := path-component ["/" path-component]*
 *   path-component   := alpha-numeric [separator alpha-numeric]*
 *   alpha-numeric    := /[a-z0-9]+/
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex   (algorithm sha256, sha384 or sha512, lowercase hex of its length)
 *
 * Normalisation: a first path element is a domain only if it holds a "." or a ":", is
 * "localhost", or has an uppercase letter; otherwise the domain is "docker.io". On "docker.io"
 * ("index.docker.io" is an old spelling of it) a one-element path gets "library/" in front. With
 * neither tag nor digest, the tag is "latest"; a digest alone adds no tag; tag and digest both
 * are kept.
 *
 * Errors are InvalidArgument and begin with Docker's "invalid reference format", then the input
 * quoted, then Docker's reason where it gives one:
 * `invalid reference format: "Busybox": repository name must be lowercase`.
 */
import { invalidArgument } from '../lib/errors.js';
import type { Digest } from '../lib/digest.js';

/** The default domain that a name without one belongs to. */
export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** The longest remote-name (path) Docker accepts. */
export const REPOSITORY_NAME_MAX = 255;

// The grammar above as regular expressions, built from the same parts. JavaScript's backtracking
// picks the same submatches as Go's leftmost-first matching for these patterns.
const optional = (...re: string[]) => `(?:${re.join('')})?`;
const anyTimes = (...re: string[]) => `(?:${re.join('')})*`;
const capture = (...re: string[]) => `(${re.join('')})`;
const anchored = (...re: string[]) => `^${re.join('')}$`;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = domainNameComponent + anyTimes('\\.', domainNameComponent);
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = alphanumeric + anyTimes(separator, alphanumeric);
const remoteName = pathComponent + anyTimes('/', pathComponent);
const namePat = optional(domainAndPort, '/') + remoteName;

const REFERENCE_RE = new RegExp(anchored(capture(namePat), optional(':', capture(tagPat)), optional('@', capture(digestPat))));
const ANCHORED_NAME_RE = new RegExp(anchored(optional(capture(domainAndPort), '/'), capture(remoteName)));
const ANCHORED_TAG_RE = new RegExp(anchored(tagPat));
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Digest algorithms a reference may name, with their hex lengths (those Docker registers). */
const REFERENCE_DIGEST_ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** Inputs longer than this are cut short (with "…") where a message quotes them. */
const QUOTE_MAX = 512;

function refError(input: string, why?: string): Error {
  const shown = input.length > QUOTE_MAX ? `${input.slice(0, QUOTE_MAX)}…` : input;
  return invalidArgument(`invalid reference format: ${JSON.stringify(shown)}${why === undefined ? '' : `: ${why}`}`);
}

/** Docker's reason a digest in a reference is not acceptable, or undefined. */
function digestProblem(d: string): string | undefined {
  const colon = d.indexOf(':');
  const algorithm = d.slice(0, colon);
  const encoded = d.slice(colon + 1);
  const len = REFERENCE_DIGEST_ALGORITHMS[algorithm];
  if (len === undefined) return 'unsupported digest algorithm';
  if (encoded.length !== len) return 'invalid checksum digest length';
  if (!/^[a-f0-9]+$/.test(encoded)) return 'invalid checksum digest format';
  return undefined;
}

/** A parsed, normalised image reference. */
export class Reference {
  /** "docker.io", "localhost:5000", "example.test", "[::1]:5000". */
  readonly domain: string;
  /** The remote name: "library/busybox", "user/repo", "a/b". */
  readonly path: string;
  /** The tag: "latest" when the input had neither tag nor digest; absent for a digest alone. */
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;

  /** Use parseReference; the constructor trusts its arguments. */
  constructor(domain: string, path: string, tag?: string, digest?: Digest) {
    this.domain = domain;
    this.path = path;
    this.tag = tag;
    this.digest = digest;
  }

  /** domain/path: "docker.io/library/busybox". */
  get name(): string {
    return `${this.domain}/${this.path}`;
  }

  /** As docker prints it: "busybox:latest", "user/repo@sha256:…", "localhost:5000/x:1". */
  get familiar(): string {
    return familiarize(this.domain, this.path) + this.suffix();
  }

  /** The full normalised form: "docker.io/library/busybox:latest". */
  toString(): string {
    return this.name + this.suffix();
  }

  private suffix(): string {
    return (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }
}

function familiarize(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return path;
}

/** Splits a familiar name into domain and remainder as Docker does (the remainder may hold the tag and digest). */
function splitDockerDomain(s: string): { domain: string; remainder: string } {
  const slash = s.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + s };
  const first = s.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
    remainder = s.slice(slash + 1);
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = s;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** The grammar alone, no normalisation: the parts of a full reference, or the reason it is not one. */
function parseStrict(s: string, input: string): { domain: string; path: string; tag?: string; digest?: string } {
  if (s === '') throw refError(input, 'repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) throw refError(input, 'repository name must be lowercase');
    throw refError(input);
  }
  const name = m[1]!;
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_MAX) throw refError(input, `repository name must not be more than ${REPOSITORY_NAME_MAX} characters`);
  const out: { domain: string; path: string; tag?: string; digest?: string } = { domain, path };
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) {
    const problem = digestProblem(m[3]);
    if (problem !== undefined) throw refError(input, problem);
    out.digest = m[3];
  }
  return out;
}

/** Docker's normalisation of a familiar reference, without adding the default tag. */
function parseNormalized(s: string): { domain: string; path: string; tag?: string; digest?: string } {
  if (typeof s !== 'string') throw invalidArgument(`invalid reference format: not a string`);
  if (IDENTIFIER_RE.test(s)) throw refError(s, 'cannot specify 64-byte hexadecimal strings');
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) throw refError(s, 'repository name must be lowercase');
  return parseStrict(`${domain}/${remainder}`, s);
}

/**
 * Parses an image reference as the docker CLI does and normalises it: `busybox` →
 * docker.io/library/busybox:latest. Throws InvalidArgument: `invalid reference format: "…"`.
 */
export function parseReference(s: string): Reference {
  const r = parseNormalized(s);
  const tag = r.tag === undefined && r.digest === undefined ? DEFAULT_TAG : r.tag;
  return new Reference(r.domain, r.path, tag, r.digest);
}

/**
 * A reference as docker shows it: without "docker.io/", and without "library/" before a
 * one-element path. Adds and drops nothing else: "docker.io/library/busybox" → "busybox",
 * "docker.io/library/busybox:latest" → "busybox:latest", "docker.io/u/r@sha256:…" →
 * "u/r@sha256:…". For a Reference (whose tag is defaulted) this is `ref.familiar`; for the bare
 * repository as the REPOSITORY column of `docker images` shows it, pass `ref.name`.
 */
export function familiarName(ref: Reference | string): string {
  if (typeof ref !== 'string') return ref.familiar;
  const r = parseNormalized(ref);
  return familiarize(r.domain, r.path) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** Whether `tag` is a valid tag (/[\w][\w.-]{0,127}/). */
export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

/** A full image id: 64 lowercase hex characters, bare or after "sha256:". */
export function isFullId(s: string): boolean {
  return IDENTIFIER_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/**
 * Whether `s` could be a (short) image or container id: 4 to 64 lowercase hex characters, bare
 * or after "sha256:". Such a string may also be a valid name ("dbcc1"); the caller decides which
 * to try first (docker tries the name, then the id prefix).
 */
export function looksLikeIdPrefix(s: string): boolean {
  return /^[a-f0-9]{4,64}$/.test(s.startsWith('sha256:') ? s.slice(7) : s);
}
