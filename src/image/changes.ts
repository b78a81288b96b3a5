/**
 * `--change` instructions of `import` and `commit` (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
 * LABEL, ONBUILD, USER, VOLUME, WORKDIR: dockerd's valid change commands), applied to an image
 * config's `config` section as a Dockerfile's instructions would be.
 */
import { posix } from 'node:path';
import { parseGoDuration } from '../lib/duration.js';
import { invalidArgument } from '../lib/errors.js';

/** Expands $VAR and ${VAR} in an instruction's argument from the config's environment (the caller's shell lexer). */
export type ExpandWord = (text: string, lookup: (name: string) => string | undefined) => string;

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  OnBuild?: string[] | null;
  [k: string]: unknown;
}

/** JSON array form, or shell form wrapped in /bin/sh -c, as Dockerfiles define them. */
function commandForm(rest: string, where: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      throw invalidArgument(`${where}: invalid JSON array ${JSON.stringify(t)}`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`${where}: must be a JSON array of strings`);
    return v as string[];
  }
  return ['/bin/sh', '-c', t];
}

function keyValues(rest: string, where: string): [string, string][] {
  const t = rest.trim();
  // ENV/LABEL accept "k=v k2=v2" (with quotes) or the legacy "k v".
  if (!/^[^\s=]+=/.test(t)) {
    const m = /^(\S+)\s+(.*)$/.exec(t);
    if (!m) throw invalidArgument(`${where}: expected NAME=VALUE`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  let m: RegExpExecArray | null;
  let consumed = '';
  while ((m = re.exec(t))) {
    let v = m[2]!;
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
    consumed += m[0];
  }
  if (out.length === 0) throw invalidArgument(`${where}: expected NAME=VALUE`);
  return out;
}

/** HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD …, or NONE. */
function healthcheck(rest: string, where: string): NonNullable<ContainerConfig['Healthcheck']> {
  let t = rest.trim();
  const hc: NonNullable<ContainerConfig['Healthcheck']> = {};
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(t); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(t)) {
    t = t.slice(m[0].length);
    const [, name, v] = m as unknown as [string, string, string];
    if (name === 'retries') {
      if (!/^\d+$/.test(v)) throw invalidArgument(`${where}: --retries=${v}: not a number`);
      hc.Retries = Number(v);
      continue;
    }
    const ns = parseGoDuration(v);
    if (ns === undefined || ns < 0) throw invalidArgument(`${where}: --${name}=${v}: not a duration`);
    if (name === 'interval') hc.Interval = ns;
    else if (name === 'timeout') hc.Timeout = ns;
    else if (name === 'start-period') hc.StartPeriod = ns;
    else if (name === 'start-interval') hc.StartInterval = ns;
    else throw invalidArgument(`Unknown flag: ${name}`);
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(t);
  const kind = m?.[1]?.toUpperCase();
  if (kind === 'NONE') return { Test: ['NONE'] };
  if (kind !== 'CMD' || !m![2]!.trim()) throw invalidArgument(`${where}: Unknown type ${JSON.stringify(m?.[1] ?? '')} in HEALTHCHECK (try CMD)`);
  const cmd = m![2]!.trim();
  return { Test: cmd.startsWith('[') ? ['CMD', ...commandForm(cmd, where)] : ['CMD-SHELL', cmd], ...hc };
}

/**
 * The instructions applied in order to a copy of `cfg`, as dockerd's commit and import apply
 * them: an ENTRYPOINT drops the CMD unless a CMD came before it, a relative WORKDIR is joined to
 * the current one, and (given `expand`) variables expand from the config's environment.
 */
export function applyChanges(cfg: ContainerConfig, changes: readonly string[], expand?: ExpandWord): ContainerConfig {
  const c: ContainerConfig = { ...cfg };
  let cmdSet = false;
  const sub = (text: string) => {
    if (!expand) return text;
    const env = c.Env ?? [];
    return expand(text, (name) => {
      const e = [...env].reverse().find((x) => x.slice(0, x.indexOf('=') < 0 ? x.length : x.indexOf('=')) === name);
      return e === undefined || !e.includes('=') ? undefined : e.slice(e.indexOf('=') + 1);
    });
  };
  for (const line of changes.flatMap((l) => l.split('\n'))) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const where = `--change ${JSON.stringify(line)}`;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(line);
    if (!m) throw invalidArgument(`${where}: empty instruction`);
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (instr) {
      case 'CMD':
        c.Cmd = commandForm(rest, where);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(rest, where);
        if (!cmdSet) c.Cmd = null;
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(sub(rest), where)) {
          const idx = env.findIndex((e) => e.split('=')[0] === k);
          if (idx >= 0) env[idx] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(sub(rest), where)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of sub(rest).trim().split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw invalidArgument(`${where}: invalid port ${JSON.stringify(p)}`);
          ports[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        c.User = sub(rest.trim());
        break;
      case 'WORKDIR': {
        const dir = sub(rest.trim());
        c.WorkingDir = posix.isAbsolute(dir) ? posix.normalize(dir) : posix.join('/', c.WorkingDir || '/', dir);
        break;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(rest, where);
        break;
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const t = sub(rest.trim());
        const list = t.startsWith('[') ? commandForm(t, where) : t.split(/\s+/);
        for (const v of list) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
      default:
        // dockerd's words (and its lower case); STOPSIGNAL is not one of its change commands.
        throw invalidArgument(`${instr.toLowerCase()} is not a valid change command`);
    }
  }
  return c;
}
