/**
 * Structural validation of an OCI runtime config.json. Every message names the JSON path and what
 * is wrong with it: `process.args: must be a non-empty array of strings`.
 */
import { invalidArgument } from '../lib/errors.js';
import type { Spec } from './runtime-spec.js';

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export const RLIMIT_TYPES = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
] as const;
export const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly where: string) {}
  fail(path: string, msg: string): never {
    throw invalidArgument(`${this.where}: ${path}: ${msg}`);
  }
  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    return v as Obj;
  }
  optObj(v: unknown, path: string): Obj | undefined {
    return v === undefined ? undefined : this.obj(v, path);
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, not ${describe(v)}`);
    return v;
  }
  optStr(v: unknown, path: string): void {
    if (v !== undefined) this.str(v, path);
  }
  abs(v: unknown, path: string): string {
    const s = this.str(v, path);
    if (!s.startsWith('/')) this.fail(path, `must be an absolute path, not ${JSON.stringify(s)}`);
    return s;
  }
  bool(v: unknown, path: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.fail(path, `must be a boolean, not ${describe(v)}`);
  }
  int(v: unknown, path: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be an integer, not ${describe(v)}`);
    if (v < min || v > max) this.fail(path, `${v} is out of range [${min}, ${max}]`);
    return v;
  }
  optInt(v: unknown, path: string, min = -Infinity, max = Infinity): void {
    if (v !== undefined) this.int(v, path, min, max);
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, not ${describe(v)}`);
    return v;
  }
  optArr(v: unknown, path: string): unknown[] {
    return v === undefined ? [] : this.arr(v, path);
  }
  strArr(v: unknown, path: string): void {
    this.optArr(v, path).forEach((s, i) => this.str(s, `${path}[${i}]`));
  }
  strMap(v: unknown, path: string): void {
    const o = this.optObj(v, path);
    if (o) for (const [k, x] of Object.entries(o)) this.str(x, `${path}.${k}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Parses and validates config.json text. `where` names the file in messages. */
export function parseSpec(text: string, where = 'config.json'): Spec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`${where}: invalid JSON: ${(e as Error).message}`);
  }
  return validateSpec(raw, where);
}

export function validateSpec(raw: unknown, where = 'config.json'): Spec {
  const c = new Checker(where);
  const s = c.obj(raw, '(root)');
  const ver = c.str(s.ociVersion, 'ociVersion');
  if (!/^1\.\d+\.\d+(-[\w.-]+)?(\+[\w.-]+)?$/.test(ver)) c.fail('ociVersion', `unsupported version ${JSON.stringify(ver)} (berth supports 1.x)`);

  const root = c.optObj(s.root, 'root');
  if (root) {
    const p = c.str(root.path, 'root.path');
    if (p === '') c.fail('root.path', 'must not be empty');
    c.bool(root.readonly, 'root.readonly');
  }
  c.optStr(s.hostname, 'hostname');
  c.optStr(s.domainname, 'domainname');
  c.strMap(s.annotations, 'annotations');

  const proc = c.optObj(s.process, 'process');
  if (proc) {
    c.bool(proc.terminal, 'process.terminal');
    const cs = c.optObj(proc.consoleSize, 'process.consoleSize');
    if (cs) {
      c.int(cs.height, 'process.consoleSize.height', 0, 65535);
      c.int(cs.width, 'process.consoleSize.width', 0, 65535);
    }
    const user = c.obj(proc.user, 'process.user');
    c.int(user.uid, 'process.user.uid', 0, 0xffffffff);
    c.int(user.gid, 'process.user.gid', 0, 0xffffffff);
    c.optInt(user.umask, 'process.user.umask', 0, 0o777);
    c.optArr(user.additionalGids, 'process.user.additionalGids').forEach((g, i) =>
      c.int(g, `process.user.additionalGids[${i}]`, 0, 0xffffffff),
    );
    const args = c.arr(proc.args, 'process.args');
    if (args.length === 0) c.fail('process.args', 'must not be empty');
    c.strArr(args, 'process.args');
    c.optArr(proc.env, 'process.env').forEach((e, i) => {
      const v = c.str(e, `process.env[${i}]`);
      if (!v.includes('=')) c.fail(`process.env[${i}]`, `must be NAME=VALUE, not ${JSON.stringify(v)}`);
    });
    c.abs(proc.cwd, 'process.cwd');
    const caps = c.optObj(proc.capabilities, 'process.capabilities');
    if (caps) for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) c.strArr(caps[set], `process.capabilities.${set}`);
    const seen = new Set<string>();
    c.optArr(proc.rlimits, 'process.rlimits').forEach((r, i) => {
      const o = c.obj(r, `process.rlimits[${i}]`);
      const t = c.str(o.type, `process.rlimits[${i}].type`);
      if (!(RLIMIT_TYPES as readonly string[]).includes(t)) c.fail(`process.rlimits[${i}].type`, `unknown rlimit ${JSON.stringify(t)}`);
      if (seen.has(t)) c.fail(`process.rlimits[${i}].type`, `${t} is given twice`);
      seen.add(t);
      const soft = c.int(o.soft, `process.rlimits[${i}].soft`, 0);
      const hard = c.int(o.hard, `process.rlimits[${i}].hard`, 0);
      if (soft > hard) c.fail(`process.rlimits[${i}]`, `soft limit ${soft} is above the hard limit ${hard}`);
    });
    c.bool(proc.noNewPrivileges, 'process.noNewPrivileges');
    c.optInt(proc.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000);
    c.optStr(proc.apparmorProfile, 'process.apparmorProfile');
    c.optStr(proc.selinuxLabel, 'process.selinuxLabel');
  }

  c.optArr(s.mounts, 'mounts').forEach((m, i) => {
    const o = c.obj(m, `mounts[${i}]`);
    c.abs(o.destination, `mounts[${i}].destination`);
    c.optStr(o.type, `mounts[${i}].type`);
    c.optStr(o.source, `mounts[${i}].source`);
    c.strArr(o.options, `mounts[${i}].options`);
  });

  const hooks = c.optObj(s.hooks, 'hooks');
  if (hooks) {
    for (const [kind, list] of Object.entries(hooks)) {
      if (!['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].includes(kind))
        c.fail(`hooks.${kind}`, 'unknown hook kind');
      c.arr(list, `hooks.${kind}`).forEach((h, i) => {
        const o = c.obj(h, `hooks.${kind}[${i}]`);
        c.abs(o.path, `hooks.${kind}[${i}].path`);
        c.strArr(o.args, `hooks.${kind}[${i}].args`);
        c.strArr(o.env, `hooks.${kind}[${i}].env`);
        c.optInt(o.timeout, `hooks.${kind}[${i}].timeout`, 1);
      });
    }
  }

  const linux = c.optObj(s.linux, 'linux');
  if (linux) {
    const types = new Set<string>();
    c.optArr(linux.namespaces, 'linux.namespaces').forEach((n, i) => {
      const o = c.obj(n, `linux.namespaces[${i}]`);
      const t = c.str(o.type, `linux.namespaces[${i}].type`);
      if (!(NAMESPACE_TYPES as readonly string[]).includes(t)) c.fail(`linux.namespaces[${i}].type`, `unknown namespace type ${JSON.stringify(t)}`);
      if (types.has(t)) c.fail(`linux.namespaces[${i}].type`, `namespace ${JSON.stringify(t)} is given twice`);
      types.add(t);
      if (o.path !== undefined) c.abs(o.path, `linux.namespaces[${i}].path`);
    });
    for (const key of ['uidMappings', 'gidMappings']) {
      const maps = c.optArr(linux[key], `linux.${key}`);
      maps.forEach((m, i) => {
        const o = c.obj(m, `linux.${key}[${i}]`);
        c.int(o.containerID, `linux.${key}[${i}].containerID`, 0, 0xffffffff);
        c.int(o.hostID, `linux.${key}[${i}].hostID`, 0, 0xffffffff);
        c.int(o.size, `linux.${key}[${i}].size`, 1, 0xffffffff);
      });
      if (maps.length > 0 && !types.has('user')) c.fail(`linux.${key}`, 'mappings need a user namespace in linux.namespaces');
    }
    c.optArr(linux.devices, 'linux.devices').forEach((d, i) => {
      const o = c.obj(d, `linux.devices[${i}]`);
      const t = c.str(o.type, `linux.devices[${i}].type`);
      if (!['c', 'b', 'u', 'p'].includes(t)) c.fail(`linux.devices[${i}].type`, `unknown device type ${JSON.stringify(t)} (c, b, u or p)`);
      c.abs(o.path, `linux.devices[${i}].path`);
      if (t !== 'p') {
        c.int(o.major, `linux.devices[${i}].major`, 0);
        c.int(o.minor, `linux.devices[${i}].minor`, 0);
      }
      c.optInt(o.fileMode, `linux.devices[${i}].fileMode`, 0, 0o7777);
      c.optInt(o.uid, `linux.devices[${i}].uid`, 0);
      c.optInt(o.gid, `linux.devices[${i}].gid`, 0);
    });
    c.optStr(linux.cgroupsPath, 'linux.cgroupsPath');
    c.optObj(linux.resources, 'linux.resources');
    if (linux.rootfsPropagation !== undefined) {
      const p = c.str(linux.rootfsPropagation, 'linux.rootfsPropagation');
      if (!PROPAGATIONS.includes(p)) c.fail('linux.rootfsPropagation', `unknown propagation ${JSON.stringify(p)}`);
    }
    c.optObj(linux.seccomp, 'linux.seccomp');
    c.strMap(linux.sysctl, 'linux.sysctl');
    c.optArr(linux.maskedPaths, 'linux.maskedPaths').forEach((p, i) => c.abs(p, `linux.maskedPaths[${i}]`));
    c.optArr(linux.readonlyPaths, 'linux.readonlyPaths').forEach((p, i) => c.abs(p, `linux.readonlyPaths[${i}]`));
    c.optStr(linux.mountLabel, 'linux.mountLabel');
  }
  return s as unknown as Spec;
}
