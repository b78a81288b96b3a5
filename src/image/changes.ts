/**
 * `--change` instructions of `import` and `commit` (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL, ONBUILD), applied to an image config's `config` section.
 */
import { invalidArgument } from '../lib/errors.js';

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
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

export function applyChanges(cfg: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = { ...cfg };
  changes.forEach((line, i) => {
    const where = `--change ${JSON.stringify(line)}`;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(line);
    if (!m) throw invalidArgument(`${where}: empty instruction`);
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (instr) {
      case 'CMD':
        c.Cmd = commandForm(rest, where);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(rest, where);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(rest, where)) {
          const idx = env.findIndex((e) => e.split('=')[0] === k);
          if (idx >= 0) env[idx] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(rest, where)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw invalidArgument(`${where}: invalid port ${JSON.stringify(p)}`);
          ports[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        c.User = rest.trim();
        break;
      case 'WORKDIR':
        c.WorkingDir = rest.trim();
        break;
      case 'STOPSIGNAL':
        c.StopSignal = rest.trim();
        break;
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const t = rest.trim();
        const list = t.startsWith('[') ? commandForm(t, where) : t.split(/\s+/);
        for (const v of list) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
      default:
        throw invalidArgument(`${where}: ${instr} is not an instruction --change supports (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)`);
    }
    void i;
  });
  return c;
}
