/**
 * The Dockerfile solver. Stages are built concurrently as far as their dependencies (FROM a
 * stage, COPY --from, RUN --mount from=) allow; stages the target does not need are skipped.
 * Each step of a stage has a cache key: its parent's key and the instruction with its resolved
 * arguments, environment and, for COPY/ADD, a digest of the content it reads. Steps that change
 * files (RUN, COPY, ADD, WORKDIR) commit a writable snapshot as a layer; a cache hit reuses the
 * layer without a snapshot or container. Metadata steps change only the config (empty_layer).
 *
 * RUN goes through the Executor the engine provides; images, snapshots and layers through the
 * BuildBackend. Nothing here prints: progress is reported through `onProgress`.
 */
import { nodeCrypto, nodeFsPromises, randomBytes } from '../lib/builtins.js';
import { closeSync, createReadStream, mkdirSync, openSync, readlinkSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import type { LayerRecord } from '../image/index.js';
import { parseGoDuration } from '../lib/duration.js';
import { BerthError, invalidArgument, isBerthError, reason } from '../lib/errors.js';
import type { ContainerConfig, History, ImageConfig } from '../oci/image-spec.js';
import { resolveUser } from '../oci/user.js';
import { copyPreserving, StageTree, withStageTree, type Mount, type Snapshotter, type StageStat } from '../snapshot/index.js';
import { BuildCache, type CacheEntry } from './cache.js';
import { BuildContext, ContextError, FileHashCache, matchComponent, type Entry } from './context.js';
import { dockerfileError, instructionText, jsonForm, makeInstruction, parseDockerfile, type Dockerfile, type Instruction } from './dockerfile.js';
import { expandVariables, LexError, processWord, processWords, splitRaw, type Lookup } from './shell-lex.js';

export interface BaseImage {
  id: string;
  config: ImageConfig;
  layers: LayerRecord[];
}

/** A mount for a RUN step besides its root. */
export interface RunMount {
  type: 'bind' | 'tmpfs';
  source?: string;
  destination: string;
  readonly?: boolean;
}

export interface RunRequest {
  /** The writable snapshot (prepared by the builder) that is the container's root. */
  snapshot: string;
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  /** bridge: a network namespace of the step's own on berth's default bridge (as Docker's builds). */
  network: 'bridge' | 'host' | 'none';
  mounts: RunMount[];
  onOutput: (chunk: Buffer) => void;
  /** Aborted when the build is canceled: the step's processes are killed. */
  signal?: AbortSignal;
}

/** Runs a RUN step's process; returns its exit code. The engine implements it with the runtime. */
export interface Executor {
  run(req: RunRequest): Promise<number>;
}

/** What the builder needs of the image store and the snapshotter (the engine provides it). */
export interface BuildBackend {
  /** The image by reference or id; the engine pulls one that is not here (FROM pulls a missing base image). */
  resolveImage(ref: string): BaseImage | Promise<BaseImage>;
  readonly snapshots: Snapshotter;
  /** Runs fn with the snapshot mounted on a private directory. */
  mount<T>(key: string, writable: boolean, fn: (dir: string) => Promise<T> | T): Promise<T>;
  /** The snapshot's changes as a layer on its parent (whose diff IDs are given); null if none. */
  commitLayer(snapshot: string, parentDiffIds: string[]): Promise<LayerRecord | null>;
  /** Whether a cached layer is still there (unpacked and its blob stored). */
  hasLayer(l: LayerRecord): boolean;
  storeImage(config: ImageConfig, layers: LayerRecord[], tags: string[]): string;
  /** Joins a path inside a root file system onto its host directory, symlinks kept inside. */
  secureJoin(root: string, path: string): string;
  /**
   * ADD of a local archive: unpacks the context's file `archive` (tar, gzip, bzip2, xz or zstd)
   * into `dest` of the root file system at `root`, each path resolved inside that root (a link
   * a RUN step planted cannot lead an entry out of it), owners kept.
   */
  extractArchive(root: string, dest: string, archive: string, what: string): Promise<void>;
  executor: Executor;
  /** Where the build cache lives (records, cache mounts, file digests). */
  cacheDir: string;
  defaultArch: string;
}

export type ProgressEvent =
  | { type: 'step'; id: number; text: string }
  | { type: 'cached'; id: number }
  | { type: 'output'; id: number; data: string }
  | { type: 'done'; id: number }
  | { type: 'warning'; text: string };

export interface BuildOptions {
  contextDir: string;
  dockerfile: string;
  dockerfileName?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  labels?: Record<string, string>;
  /** RUN steps' network: bridge (the default), host or none. */
  network?: 'bridge' | 'host' | 'none';
  /** --secret id=ID,src=PATH */
  secrets?: Record<string, string>;
  tags?: string[];
  onProgress?: (e: ProgressEvent) => void;
  /** Cancels the build: the running steps stop, clean up, and the build fails. */
  signal?: AbortSignal;
}

export interface BuildResult {
  id: string;
  /** Steps run, steps taken from the cache. */
  stats: { run: number; cached: number; contextReads: number };
}

/** A RUN step that failed: its exit code and the tail of its output. */
export class RunFailedError extends BerthError {
  constructor(
    message: string,
    readonly code: number,
    readonly output: string,
  ) {
    super('FailedPrecondition', message, { exitCode: 1 });
  }
}

const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Reuse {
  /** The new snapshot's upper directory (links go there: same file system as the layers). */
  upper: string;
  /** The earlier layer's directory and its files: container path → content, mode, owner, mtime. */
  dir: string;
  files: Record<string, string>;
}

interface StageDef {
  index: number;
  name?: string;
  from: Instruction;
  base: string;
  instructions: Instruction[];
  deps: { stage: number; inst: Instruction }[];
}

interface State {
  def: StageDef;
  arch: string;
  os: string;
  config: ContainerConfig;
  layers: LayerRecord[];
  history: History[];
  key: string;
  created: string;
  args: Map<string, string>;
  cmdSet: boolean;
  /** The image's author: the base's, or the last MAINTAINER's. */
  author?: string;
}

const sha = (s: string) => 'sha256:' + nodeCrypto().createHash('sha256').update(s).digest('hex');
const goList = (a: string[]) => `[${a.map((x) => JSON.stringify(x)).join(' ')}]`;

export class Builder {
  private readonly cache: BuildCache;
  private readonly df: Dockerfile;
  private readonly file: string;
  private readonly stages: StageDef[] = [];
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly buildArgs: Record<string, string>;
  private readonly used = new Set<string>();
  private readonly running = new Map<number, Promise<State>>();
  private ctx: BuildContext | undefined;
  private readonly hashes: FileHashCache;
  private nextId = 1;
  private readonly stats = { run: 0, cached: 0, contextReads: 0, linked: 0 };
  /** While a COPY from the context runs: the earlier layer to link from, and what it writes. */
  private reuse: Reuse | undefined;
  /** Aborted by the caller's signal, or by the first failing stage (the others stop too). */
  private readonly cancel = new AbortController();
  private firstError: unknown;
  private written: Record<string, string> = {};

  constructor(
    private readonly be: BuildBackend,
    private readonly o: BuildOptions,
  ) {
    this.file = o.dockerfileName ?? 'Dockerfile';
    this.cache = new BuildCache(be.cacheDir);
    this.df = parseDockerfile(o.dockerfile, this.file);
    this.buildArgs = { ...(o.buildArgs ?? {}) };
    mkdirSync(be.cacheDir, { recursive: true });
    this.hashes = new FileHashCache(join(be.cacheDir, 'files.json'));
    o.signal?.addEventListener('abort', () => this.cancel.abort());
    if (o.signal?.aborted) this.cancel.abort();
    // BuildKit's automatic platform ARGs, in the global scope (a stage declares them to use them).
    const arch = be.defaultArch;
    for (const [k, v] of Object.entries({ TARGETPLATFORM: `linux/${arch}`, TARGETOS: 'linux', TARGETARCH: arch, TARGETVARIANT: '', BUILDPLATFORM: `linux/${arch}`, BUILDOS: 'linux', BUILDARCH: arch, BUILDVARIANT: '' })) this.globalArgs.set(k, v);
    this.splitStages();
  }

  private progress(e: ProgressEvent): void {
    this.o.onProgress?.(e);
  }

  private err(inst: Instruction, msg: string): BerthError {
    return dockerfileError(inst.file, inst.line, msg) as BerthError;
  }

  private context(): BuildContext {
    this.ctx ??= BuildContext.open(this.o.contextDir, this.hashes);
    return this.ctx;
  }

  /** Global ARGs, then one StageDef per FROM with its instructions and dependencies. */
  private splitStages(): void {
    const list = this.df.instructions;
    if (!list.some((i) => i.cmd === 'FROM')) throw dockerfileError(this.file, list[0]?.line ?? 1, 'no build stage: the Dockerfile must have a FROM instruction');
    let cur: StageDef | undefined;
    for (const inst of list) {
      if (inst.cmd === 'FROM') {
        const words = inst.rest.split(/\s+/).filter(Boolean);
        for (const f of inst.flags) if (f.name !== 'platform') throw this.err(inst, `unknown flag: --${f.name}`);
        let name: string | undefined;
        if (words.length === 3 && words[1]!.toLowerCase() === 'as') name = words[2]!.toLowerCase();
        else if (words.length !== 1) throw this.err(inst, 'FROM requires either one or three arguments: FROM IMAGE [AS NAME]');
        if (name !== undefined && !/^[a-z][a-z0-9._-]*$/.test(name)) throw this.err(inst, `invalid name for build stage: ${JSON.stringify(name)}: it must start with a letter and hold only letters, digits, '.', '_', '-'`);
        if (name !== undefined && this.stages.some((s) => s.name === name)) throw this.err(inst, `duplicate name for build stage: ${JSON.stringify(name)}`);
        let base: string;
        try {
          base = processWord(words[0]!, (n) => this.globalArg(n), this.df.escape);
        } catch (e) {
          throw this.err(inst, `FROM: ${reason(e)}`);
        }
        if (!base) throw this.err(inst, `FROM: the base image name ${JSON.stringify(words[0])} is empty after substitution`);
        cur = { index: this.stages.length, name, from: inst, base, instructions: [], deps: [] };
        this.stages.push(cur);
        continue;
      }
      if (!cur) {
        if (inst.cmd !== 'ARG') throw this.err(inst, `${inst.cmd} before the first FROM: only ARG may come before it`);
        for (const [k, v] of this.parseArg(inst, (n) => this.globalArg(n))) {
          if (k in this.buildArgs) this.used.add(k);
          this.globalArgs.set(k, this.buildArgs[k] ?? v);
        }
        continue;
      }
      cur.instructions.push(inst);
    }
    // Dependencies on other stages, for the order and for cycles.
    for (const s of this.stages) {
      const base = this.stageByName(s.base);
      if (base !== undefined && base.index < s.index) s.deps.push({ stage: base.index, inst: s.from });
      for (const inst of s.instructions) {
        const froms: string[] = [];
        for (const f of inst.flags) {
          if (f.name === 'from' && (inst.cmd === 'COPY' || inst.cmd === 'ADD') && f.value) froms.push(f.value);
          if (f.name === 'mount' && inst.cmd === 'RUN' && f.value) {
            const m = /(?:^|,)from=([^,]+)/.exec(f.value);
            if (m) froms.push(m[1]!);
          }
        }
        for (const raw of froms) {
          const v = safeWord(raw, (n) => this.globalArg(n), this.df.escape);
          const dep = this.stageRef(v, s.index);
          if (dep !== undefined) s.deps.push({ stage: dep.index, inst });
        }
      }
    }
  }

  private globalArg(n: string): string | undefined {
    if (this.globalArgs.has(n)) return this.globalArgs.get(n);
    return undefined;
  }

  private stageByName(name: string): StageDef | undefined {
    return this.stages.find((s) => s.name !== undefined && s.name === name.toLowerCase());
  }

  /** A --from value naming a stage (by name, or by index of an earlier stage). */
  private stageRef(v: string, from: number): StageDef | undefined {
    if (/^\d+$/.test(v)) {
      const n = Number(v);
      return n < from ? this.stages[n] : undefined;
    }
    return this.stageByName(v);
  }

  /** ARG NAME[=default] ... → [name, default] pairs. */
  private parseArg(inst: Instruction, env: Lookup): [string, string | undefined][] {
    const words = wordsOf(inst, this.df.escape);
    if (words.length === 0) throw this.err(inst, 'ARG requires at least one argument');
    return words.map((w) => {
      const i = w.indexOf('=');
      const name = i < 0 ? w : w.slice(0, i);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw this.err(inst, `ARG: invalid name ${JSON.stringify(name)}`);
      if (i < 0) return [name, undefined];
      try {
        return [name, processWord(w.slice(i + 1), env, this.df.escape)];
      } catch (e) {
        throw this.err(inst, `ARG ${name}: ${reason(e)}`);
      }
    });
  }

  async build(): Promise<BuildResult> {
    const target = this.o.target !== undefined ? this.stageByName(this.o.target) : this.stages[this.stages.length - 1]!;
    if (!target) throw invalidArgument(`target stage ${JSON.stringify(this.o.target)} could not be found in ${this.file}`);
    // The stages the target needs; a cycle is an error at the instruction that closes it.
    const needed = new Set<number>();
    const visiting: number[] = [];
    const nameOf = (i: number) => JSON.stringify(this.stages[i]!.name ?? String(i));
    const visit = (i: number) => {
      if (needed.has(i)) return;
      visiting.push(i);
      for (const d of this.stages[i]!.deps) {
        const at = visiting.indexOf(d.stage);
        if (at >= 0) {
          const path = [...visiting.slice(at), d.stage].map(nameOf).join(' → ');
          throw this.err(d.inst, `circular dependency between stages: ${path}`);
        }
        visit(d.stage);
      }
      visiting.pop();
      needed.add(i);
    };
    visit(target.index);
    // Every needed stage starts now; each waits only for what it depends on.
    const all = [...needed].map((i) => this.stage(i));
    const settled = await Promise.allSettled(all);
    this.hashes.save();
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw this.firstError ?? (failed as PromiseRejectedResult).reason;
    const st = await this.stage(target.index);
    for (const k of Object.keys(this.buildArgs)) {
      if (!this.used.has(k) && !PROXY_ARGS.includes(k)) this.progress({ type: 'warning', text: `[Warning] One or more build-args [${k}] were not consumed` });
    }
    const labels = { ...(st.config.Labels ?? {}), ...(this.o.labels ?? {}) };
    const config: ContainerConfig = { ...st.config, ...(Object.keys(labels).length ? { Labels: labels } : {}) };
    if (!config.Env?.length) delete config.Env;
    const image: ImageConfig = {
      architecture: st.arch,
      os: st.os,
      created: st.created,
      ...(st.author ? { author: st.author } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: st.layers.map((l) => l.diffId) },
      history: st.history,
    };
    const id = this.be.storeImage(image, st.layers, this.o.tags ?? []);
    this.stats.contextReads = this.hashes.reads;
    return { id, stats: this.stats };
  }

  private stage(i: number): Promise<State> {
    let p = this.running.get(i);
    if (!p) {
      p = this.buildStage(this.stages[i]!);
      p.catch((e: unknown) => {
        // The first failure is the build's; the other stages are stopped.
        if (this.firstError === undefined && !this.cancel.signal.aborted) this.firstError = e;
        this.cancel.abort();
      });
      this.running.set(i, p);
    }
    return p;
  }

  private async buildStage(def: StageDef): Promise<State> {
    const inst = def.from;
    let st: State;
    const baseStage = this.stageByName(def.base);
    if (baseStage && baseStage.index < def.index) {
      const b = await this.stage(baseStage.index);
      st = { ...b, def, config: structuredClone(b.config), layers: [...b.layers], history: [...b.history], args: new Map(), cmdSet: false };
    } else if (def.base === 'scratch') {
      st = { def, arch: this.be.defaultArch, os: 'linux', config: {}, layers: [], history: [], key: sha('FROM scratch'), created: new Date(0).toISOString(), args: new Map(), cmdSet: false };
    } else {
      let img: BaseImage;
      try {
        img = await this.be.resolveImage(def.base);
      } catch (e) {
        throw this.err(inst, `FROM ${def.base}: ${reason(e)}`);
      }
      const c = img.config;
      st = {
        def,
        arch: c.architecture,
        os: c.os,
        config: structuredClone(c.config ?? {}),
        layers: [...img.layers],
        history: [...(c.history ?? [])],
        key: sha(`FROM ${img.id}`),
        created: c.created ?? new Date(0).toISOString(),
        args: new Map(),
        cmdSet: false,
        ...(c.author ? { author: c.author } : {}),
      };
    }
    // As BuildKit: an image without PATH gets the default one.
    if (!(st.config.Env ?? []).some((e) => e.startsWith('PATH='))) st.config.Env = [DEFAULT_PATH, ...(st.config.Env ?? [])];
    const platform = inst.flags.find((f) => f.name === 'platform')?.value;
    if (platform !== undefined) {
      const p = safeWord(platform, (n) => this.globalArg(n), this.df.escape);
      if (p && p !== `linux/${st.arch}`) throw this.err(inst, `FROM --platform=${p}: berth builds for linux/${st.arch} only`);
    }
    // ONBUILD triggers of the base run first; the new image does not inherit them.
    const triggers = st.config.OnBuild ?? [];
    delete st.config.OnBuild;
    const list: Instruction[] = [];
    for (const t of triggers) {
      const m = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(t);
      if (!m) continue;
      const cmd = m[1]!.toUpperCase();
      list.push(makeInstruction(cmd, m[2]!, this.file, inst.line));
    }
    const total = list.length + def.instructions.length + 1;
    const label = def.name ?? `stage-${def.index}`;
    const fromId = this.nextId++;
    this.progress({ type: 'step', id: fromId, text: `[${label} 1/${total}] FROM ${def.base}` });
    this.progress({ type: 'done', id: fromId });
    let n = 1;
    for (const i of [...list, ...def.instructions]) {
      n++;
      if (this.cancel.signal.aborted) throw new BerthError('Unavailable', `${i.file}:${i.line}: the build was canceled`, { exitCode: 130 });
      await this.dispatch(st, i, `[${label} ${n}/${total}]`);
    }
    return st;
  }

  /** Variables for substitution: the stage's ENV over its ARGs. */
  private lookup(st: State): Lookup {
    return (name) => {
      const env = st.config.Env ?? [];
      for (let i = env.length - 1; i >= 0; i--) {
        const e = env[i]!;
        const eq = e.indexOf('=');
        if (e.slice(0, eq) === name) return e.slice(eq + 1);
      }
      return st.args.get(name);
    };
  }

  private word(st: State, inst: Instruction, s: string): string {
    try {
      return processWord(s, this.lookup(st), this.df.escape);
    } catch (e) {
      throw this.err(inst, `${inst.cmd}: ${reason(e)}`);
    }
  }

  private expand(st: State, inst: Instruction, s: string): string {
    try {
      return expandVariables(s, this.lookup(st), this.df.escape);
    } catch (e) {
      throw this.err(inst, `${inst.cmd}: ${reason(e)}`);
    }
  }

  private words(st: State, inst: Instruction, s: string): string[] {
    try {
      return processWords(s, this.lookup(st), this.df.escape);
    } catch (e) {
      throw this.err(inst, `${inst.cmd}: ${reason(e)}`);
    }
  }

  /** key=value pairs of ENV and LABEL (or the old `ENV key value` form). */
  private pairs(st: State, inst: Instruction): [string, string][] {
    const raw = wordsOf(inst, this.df.escape);
    if (raw.length === 0) throw this.err(inst, `${inst.cmd} requires at least one argument`);
    if (!raw[0]!.includes('=')) {
      if (inst.cmd === 'LABEL' || raw.length < 2) throw this.err(inst, `${inst.cmd} ${raw[0]}: must be of the form KEY=VALUE`);
      const key = raw[0]!;
      const value = inst.rest.trim().slice(key.length).trim();
      return [[key, this.word(st, inst, value)]];
    }
    return raw.map((w) => {
      const eq = w.indexOf('=');
      if (eq <= 0) throw this.err(inst, `${inst.cmd}: ${JSON.stringify(w)} must be of the form KEY=VALUE`);
      return [this.word(st, inst, w.slice(0, eq)), this.word(st, inst, w.slice(eq + 1))];
    });
  }

  private checkFlags(inst: Instruction, allowed: string[]): void {
    for (const f of inst.flags) if (!allowed.includes(f.name)) throw this.err(inst, `${inst.cmd}: unknown flag: --${f.name}`);
  }

  private meta(st: State, inst: Instruction, createdBy: string, stepLabel: string): void {
    const id = this.nextId++;
    this.progress({ type: 'step', id, text: `${stepLabel} ${instructionText(inst)}` });
    st.key = sha(`${st.key}\n${createdBy}`);
    st.history.push({ created: st.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
    this.progress({ type: 'done', id });
  }

  private shellOf(st: State): string[] {
    return st.config.Shell?.length ? st.config.Shell : ['/bin/sh', '-c'];
  }

  private async dispatch(st: State, inst: Instruction, label: string): Promise<void> {
    const text = () => inst.rest.trim();
    switch (inst.cmd) {
      case 'ENV': {
        const pairs = this.pairs(st, inst);
        const env = [...(st.config.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        st.config.Env = env;
        return this.meta(st, inst, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, label);
      }
      case 'LABEL': {
        const pairs = this.pairs(st, inst);
        st.config.Labels = { ...(st.config.Labels ?? {}) };
        for (const [k, v] of pairs) st.config.Labels[k] = v;
        return this.meta(st, inst, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, label);
      }
      case 'MAINTAINER':
        st.author = text();
        return this.meta(st, inst, `MAINTAINER ${text()}`, label);
      case 'ARG': {
        const declared = this.parseArg(inst, this.lookup(st));
        for (const [k, def] of declared) {
          let v: string | undefined;
          if (k in this.buildArgs) {
            v = this.buildArgs[k];
            this.used.add(k);
          } else if (def !== undefined) v = def;
          else if (this.globalArgs.has(k)) v = this.globalArgs.get(k);
          if (v !== undefined) st.args.set(k, v);
          else st.args.delete(k);
        }
        return this.meta(st, inst, `ARG ${declared.map(([k]) => (st.args.has(k) ? `${k}=${st.args.get(k)}` : k)).join(' ')}`, label);
      }
      case 'USER': {
        const u = this.word(st, inst, text());
        if (!u) throw this.err(inst, 'USER requires an argument');
        st.config.User = u;
        return this.meta(st, inst, `USER ${u}`, label);
      }
      case 'EXPOSE': {
        const ports = this.words(st, inst, text());
        if (ports.length === 0) throw this.err(inst, 'EXPOSE requires at least one argument');
        const exposed: Record<string, object> = { ...(st.config.ExposedPorts ?? {}) };
        for (const p of ports) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!m) throw this.err(inst, `EXPOSE: invalid port ${JSON.stringify(p)} (PORT[-END][/tcp|udp|sctp])`);
          const a = Number(m[1]);
          const b = m[2] ? Number(m[2]) : a;
          if (a < 1 || b > 65535 || b < a) throw this.err(inst, `EXPOSE: invalid port range ${JSON.stringify(p)}`);
          for (let x = a; x <= b; x++) exposed[`${x}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        st.config.ExposedPorts = exposed;
        return this.meta(st, inst, `EXPOSE map[${Object.keys(exposed).map((k) => `${k}:{}`).join(' ')}]`, label);
      }
      case 'VOLUME': {
        const vols = inst.json ?? this.words(st, inst, text());
        if (vols.length === 0 || vols.some((v) => v.trim() === '')) throw this.err(inst, 'VOLUME specified can not be an empty string');
        st.config.Volumes = { ...(st.config.Volumes ?? {}) };
        for (const v of vols) st.config.Volumes[v] = {};
        return this.meta(st, inst, `VOLUME ${goList(vols)}`, label);
      }
      case 'STOPSIGNAL': {
        const s = this.word(st, inst, text());
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(s)) throw this.err(inst, `STOPSIGNAL: invalid signal ${JSON.stringify(s)}`);
        st.config.StopSignal = s;
        return this.meta(st, inst, `STOPSIGNAL ${s}`, label);
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        const args = inst.json ?? (text() ? [...this.shellOf(st), text()] : []);
        if (inst.cmd === 'CMD') {
          st.config.Cmd = args;
          st.cmdSet = true;
        } else {
          st.config.Entrypoint = args;
          // An ENTRYPOINT resets a CMD inherited from the base image.
          if (!st.cmdSet) delete st.config.Cmd;
        }
        return this.meta(st, inst, `${inst.cmd} ${goList(args)}`, label);
      }
      case 'SHELL': {
        if (!inst.json || inst.json.length === 0) throw this.err(inst, 'SHELL requires the arguments to be in JSON form: SHELL ["executable", "parameters"]');
        st.config.Shell = inst.json;
        return this.meta(st, inst, `SHELL ${goList(inst.json)}`, label);
      }
      case 'HEALTHCHECK':
        return this.healthcheck(st, inst, label);
      case 'ONBUILD': {
        const m = /^\s*(\S+)/.exec(inst.rest);
        const kw = m?.[1]?.toUpperCase();
        if (!kw) throw this.err(inst, 'ONBUILD requires an instruction');
        if (kw === 'ONBUILD') throw this.err(inst, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (kw === 'FROM' || kw === 'MAINTAINER') throw this.err(inst, `${kw} isn't allowed as an ONBUILD trigger`);
        const trig = `${kw}${inst.rest.trim().slice(kw.length)}`;
        st.config.OnBuild = [...(st.config.OnBuild ?? []), trig];
        return this.meta(st, inst, `ONBUILD ${trig}`, label);
      }
      case 'WORKDIR':
        return this.workdir(st, inst, label);
      case 'RUN':
        return this.run(st, inst, label);
      case 'COPY':
      case 'ADD':
        return this.copy(st, inst, label);
      case 'FROM':
        throw this.err(inst, 'FROM is not allowed here');
      default:
        throw this.err(inst, `unknown instruction: ${inst.cmd}`);
    }
  }

  private healthcheck(st: State, inst: Instruction, label: string): void {
    this.checkFlags(inst, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
    const rest = inst.rest.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    const kind = m?.[1]?.toUpperCase();
    if (kind === 'NONE') {
      if (m![2] || inst.flags.length) throw this.err(inst, 'HEALTHCHECK NONE takes no other arguments');
      st.config.Healthcheck = { Test: ['NONE'] };
      return this.meta(st, inst, 'HEALTHCHECK NONE', label);
    }
    if (kind !== 'CMD') throw this.err(inst, 'HEALTHCHECK: use HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE');
    const cmdText = m![2]!.trim();
    if (!cmdText) throw this.err(inst, 'HEALTHCHECK CMD requires a command');
    const json = jsonForm(cmdText);
    const hc: NonNullable<ContainerConfig['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', cmdText] };
    for (const f of inst.flags) {
      const v = f.value ?? '';
      if (f.name === 'retries') {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw this.err(inst, `HEALTHCHECK --retries=${v}: must be at least 1`);
        hc.Retries = Number(v);
        continue;
      }
      const ns = parseGoDuration(v);
      if (ns === undefined || ns < 0) throw this.err(inst, `HEALTHCHECK --${f.name}=${v}: not a duration (like 30s, 1m30s, 500ms)`);
      if (f.name === 'interval') hc.Interval = ns;
      else if (f.name === 'timeout') hc.Timeout = ns;
      else if (f.name === 'start-period') hc.StartPeriod = ns;
      else hc.StartInterval = ns;
    }
    st.config.Healthcheck = hc;
    return this.meta(st, inst, `HEALTHCHECK &{${goList(hc.Test!)} ${inst.flags.map((f) => `--${f.name}=${f.value}`).join(' ')}}`.replace(' }', '}'), label);
  }

  /** The environment of a RUN: the image's, with the ARGs in scope that ENV does not set. */
  private runEnv(st: State): { env: string[]; argPairs: string[] } {
    const env = [...(st.config.Env ?? [])];
    if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
    const has = (k: string) => env.some((e) => e.slice(0, e.indexOf('=')) === k);
    const argPairs: string[] = [];
    for (const [k, v] of st.args) {
      if (has(k)) continue;
      argPairs.push(`${k}=${v}`);
    }
    const proxies: string[] = [];
    for (const k of PROXY_ARGS) if (k in this.buildArgs && !st.args.has(k) && !has(k)) proxies.push(`${k}=${this.buildArgs[k]}`);
    return { env: [...env, ...argPairs, ...proxies], argPairs };
  }

  // ---- steps that change files ----

  private top(st: State): { chain: string | undefined; diffIds: string[] } {
    return { chain: st.layers[st.layers.length - 1]?.chainId, diffIds: st.layers.map((l) => l.diffId) };
  }

  /**
   * A step that may make a layer: from the cache when `key` is there (and its layer still is),
   * else `work` runs on a fresh writable snapshot whose changes become the layer.
   */
  private async layerStep(st: State, inst: Instruction, label: string, keyText: string, createdBy: string, work: (snapshot: string, id: number) => Promise<void>): Promise<{ ran: boolean; entry: CacheEntry }> {
    const id = this.nextId++;
    this.progress({ type: 'step', id, text: `${label} ${instructionText(inst)}` });
    const key = sha(`${st.key}\n${keyText}`);
    let entry: CacheEntry | undefined = this.o.noCache ? undefined : this.cache.get(key);
    if (entry && entry.layer && !this.be.hasLayer(entry.layer)) entry = undefined;
    const ran = entry === undefined;
    if (entry) {
      this.stats.cached++;
      this.progress({ type: 'cached', id });
    } else {
      this.stats.run++;
      const { chain, diffIds } = this.top(st);
      const snap = `build-${randomBytes(8).toString('hex')}-p${process.pid}`;
      let layer: LayerRecord | null = null;
      this.be.snapshots.prepare(snap, chain);
      try {
        await work(snap, id);
        layer = await this.be.commitLayer(snap, diffIds);
      } finally {
        try {
          this.be.snapshots.remove(snap);
        } catch {
          /* already gone */
        }
      }
      entry = { layer, created: new Date().toISOString() };
      this.cache.put(key, entry);
    }
    st.key = key;
    st.created = entry.created;
    if (entry.layer) st.layers.push(entry.layer);
    st.history.push({ created: entry.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(entry.layer ? {} : { empty_layer: true }) });
    this.progress({ type: 'done', id });
    return { ran, entry };
  }

  private async workdir(st: State, inst: Instruction, label: string): Promise<void> {
    const w = this.word(st, inst, inst.rest.trim());
    if (!w) throw this.err(inst, 'WORKDIR requires an argument');
    const dir = posix.resolve(st.config.WorkingDir || '/', w);
    st.config.WorkingDir = dir;
    // The directories made (a layer only when one was missing) belong to the USER in effect, as
    // BuildKit makes them (the classic builder leaves them to root).
    const user = st.config.User ?? '';
    await this.layerStep(st, inst, label, user ? `WORKDIR ${dir} ${JSON.stringify(user)}` : `WORKDIR ${dir}`, `WORKDIR ${dir}`, async (snap) => {
      await this.be.mount(snap, true, (root) =>
        withStageTree(root, `WORKDIR ${dir}`, async (t) => {
          const own = user ? await this.userIds(t, inst, user) : { uid: 0, gid: 0 };
          await t.mkdirp(dir, { mode: 0o755, uid: own.uid, gid: own.gid });
        }),
      );
    });
  }

  private async run(st: State, inst: Instruction, label: string): Promise<void> {
    this.checkFlags(inst, ['mount', 'network', 'security']);
    let network = this.o.network ?? 'bridge';
    for (const f of inst.flags) {
      if (f.name === 'network') {
        if (f.value !== 'host' && f.value !== 'none' && f.value !== 'default') throw this.err(inst, `RUN --network=${f.value}: only default, none and host`);
        if (f.value !== 'default') network = f.value;
      }
      if (f.name === 'security' && f.value !== 'sandbox') throw this.err(inst, `RUN --security=${f.value}: only sandbox`);
    }
    let args: string[];
    let scriptMount: RunMount | undefined;
    const cleanups: (() => Promise<void>)[] = [];
    const rest = inst.rest.trim();
    if (inst.json) args = inst.json;
    else if (inst.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(rest) && inst.heredocs[0]!.content.startsWith('#!')) {
      // A script with its own interpreter: a file of its own, executed (as BuildKit does, under /dev/pipes).
      const h = inst.heredocs[0]!;
      const tmpDir = join(this.be.cacheDir, 'tmp');
      mkdirSync(tmpDir, { recursive: true });
      const file = join(tmpDir, `heredoc-${randomBytes(8).toString('hex')}`);
      writeFileSync(file, h.content, { mode: 0o755 });
      cleanups.push(async () => rmSync(file, { force: true }));
      scriptMount = { type: 'bind', source: file, destination: `/dev/pipes/${h.name}`, readonly: true };
      args = [`/dev/pipes/${h.name}`];
    } else if (inst.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(rest)) args = [...this.shellOf(st), inst.heredocs[0]!.content];
    else if (inst.heredocs.length) args = [...this.shellOf(st), [rest, ...inst.heredocs.map((h) => `${h.content}${h.name}`)].join('\n')];
    else args = [...this.shellOf(st), rest];
    if (!rest) throw this.err(inst, 'RUN requires at least one argument');
    const { env, argPairs } = this.runEnv(st);
    const mounts: RunMount[] = [];
    const mountKey: string[] = [];
    if (scriptMount) mounts.push(scriptMount);
    const mountSpecs = inst.flags.filter((f) => f.name === 'mount').map((f) => f.value ?? '');
    const createdBy = `RUN ${argPairs.length ? `|${argPairs.length} ${argPairs.join(' ')} ` : ''}${args.join(' ')} # buildkit`;
    const prepared: (() => Promise<void>)[] = [];
    for (const spec of mountSpecs) {
      const m = parseCsv(spec);
      const type = m.type ?? 'bind';
      const target = m.target ?? m.dst ?? m.destination;
      const ro = 'ro' in m || 'readonly' in m || m.readonly === 'true';
      if (type === 'secret') {
        const sid = m.id ?? (target ? basename(target) : undefined);
        if (!sid) throw this.err(inst, 'RUN --mount=type=secret: an id or a target is required');
        const src = this.o.secrets?.[sid];
        if (!src) {
          if (m.required === 'true') throw this.err(inst, `RUN --mount=type=secret,id=${sid}: no secret with that id was given (--secret id=${sid},src=FILE)`);
          continue;
        }
        mounts.push({ type: 'bind', source: src, destination: target ?? `/run/secrets/${sid}`, readonly: true });
        mountKey.push(`secret ${sid} ${target ?? ''}`);
        continue;
      }
      if (!target) throw this.err(inst, `RUN --mount=${spec}: a target is required`);
      const dest = posix.resolve(st.config.WorkingDir || '/', this.word(st, inst, target));
      if (type === 'tmpfs') {
        mounts.push({ type: 'tmpfs', destination: dest });
        mountKey.push(`tmpfs ${dest}`);
      } else if (type === 'cache') {
        const cid = m.id ?? dest;
        const dir = join(this.be.cacheDir, 'mounts', nodeCrypto().createHash('sha256').update(cid).digest('hex').slice(0, 32));
        mkdirSync(dir, { recursive: true });
        mounts.push({ type: 'bind', source: dir, destination: dest, readonly: ro });
        mountKey.push(`cache ${cid} ${dest} ${ro}`);
      } else if (type === 'bind') {
        const from = m.from !== undefined ? this.word(st, inst, m.from) : undefined;
        const source = m.source ?? m.src ?? '.';
        const rw = m.rw !== undefined || m.readwrite !== undefined;
        if (rw && from !== undefined) throw this.err(inst, 'RUN --mount=type=bind,from=...,rw: not there yet (read-only only)');
        if (from === undefined) {
          let entries: Entry[];
          try {
            entries = this.context().resolve(source);
          } catch (e) {
            if (e instanceof ContextError) throw this.err(inst, `RUN --mount=type=bind,source=${source}: ${e.message}`);
            throw e;
          }
          if (entries.length !== 1) throw this.err(inst, `RUN --mount=type=bind,source=${source}: must name one file or directory`);
          let src = entries[0]!.abs;
          if (rw) {
            // Writable: a copy the step may change; its writes are thrown away (as Docker does).
            const tmpDir = join(this.be.cacheDir, 'tmp');
            mkdirSync(tmpDir, { recursive: true });
            const name = `bind-${randomBytes(8).toString('hex')}`;
            const copy = join(tmpDir, name);
            cleanups.push(async () => rmSync(copy, { recursive: true, force: true }));
            try {
              await copyPreserving(src, tmpDir, name, 'copy');
            } catch (e) {
              throw this.err(inst, `RUN --mount=type=bind,source=${source},rw: copying it: ${reason(e)}`);
            }
            src = copy;
          }
          mounts.push({ type: 'bind', source: src, destination: dest, readonly: !rw });
          mountKey.push(`bind ctx ${source} ${dest} ${rw} ${this.context().digestSources(entries)}`);
        } else {
          const src = await this.sourceRoot(st, inst, from);
          mountKey.push(`bind ${src.ident} ${source} ${dest}`);
          prepared.push(async () => {
            const h = await src.open();
            cleanups.push(h.close);
            mounts.push({ type: 'bind', source: this.be.secureJoin(h.dir, source), destination: dest, readonly: true });
          });
        }
      } else throw this.err(inst, `RUN --mount: unknown type ${JSON.stringify(type)} (bind, cache, tmpfs, secret)`);
    }
    const keyText = JSON.stringify({ run: args, script: scriptMount ? sha(inst.heredocs[0]!.content) : undefined, args: argPairs, mounts: mountKey, network, user: st.config.User ?? '', cwd: st.config.WorkingDir ?? '' });
    await this.layerStep(st, inst, label, keyText, createdBy, async (snap, id) => {
      let tail = '';
      try {
        for (const p of prepared) await p();
        // Mount points the container needs but the image lacks are made for the run only: they
        // are not part of the layer (as in Docker).
        const stubs = mounts.length ? await this.be.mount(snap, false, (root) => withStageTree(root, 'RUN', (t) => this.missingPaths(t, mounts.map((m) => m.destination)))) : [];
        const code = await this.be.executor.run({
          snapshot: snap,
          args,
          env,
          cwd: st.config.WorkingDir || '/',
          user: st.config.User ?? '',
          network,
          mounts,
          signal: this.cancel.signal,
          onOutput: (chunk) => {
            const s = chunk.toString('utf8');
            tail = (tail + s).slice(-8192);
            this.progress({ type: 'output', id, data: s });
          },
        });
        if (code === 0 && stubs.length) await this.be.mount(snap, true, (root) => withStageTree(root, 'RUN', (t) => this.removeStubs(t, stubs)));
        if (this.cancel.signal.aborted) throw new BerthError('Unavailable', `${inst.file}:${inst.line}: RUN ${rest.split('\n')[0]}: the build was canceled`, { exitCode: 130 });
        if (code !== 0) throw new RunFailedError(`${inst.file}:${inst.line}: RUN ${rest.split('\n')[0]}: the command ${JSON.stringify(args.join(' '))} returned a non-zero code: ${code}`, code, tail);
      } catch (e) {
        if (e instanceof RunFailedError || (isBerthError(e) && e.message.startsWith(`${inst.file}:`))) throw e;
        throw this.err(inst, `RUN: ${reason(e)}`);
      } finally {
        for (const c of cleanups) await c().catch(() => {});
      }
    });
  }

  /** The paths (each missing component, top first) of these destinations that the stage lacks. */
  private async missingPaths(t: StageTree, dests: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const d of dests) for (const p of await t.missing(d)) if (!out.includes(p)) out.push(p);
    return out;
  }

  /** Removes mount points made for a RUN (deepest first), if they are still empty. */
  private async removeStubs(t: StageTree, paths: string[]): Promise<void> {
    for (const p of [...paths].sort((a, b) => b.length - a.length)) await t.removeIfEmpty(p);
  }

  /**
   * A --from source: another stage (waited for) or an image, opened as a mounted read-only root.
   * `ident` names its content for cache keys.
   */
  private async sourceRoot(st: State, inst: Instruction, from: string): Promise<{ ident: string; open: () => Promise<{ dir: string; close: () => Promise<void> }> }> {
    const stageDef = this.stageRef(from, st.def.index);
    let layers: LayerRecord[];
    let ident: string;
    if (stageDef) {
      if (stageDef.index === st.def.index) throw this.err(inst, `circular dependency: --from=${from} is this stage`);
      const s = await this.stage(stageDef.index);
      layers = s.layers;
      ident = `stage ${s.key}`;
    } else {
      let img: BaseImage;
      try {
        img = await this.be.resolveImage(from);
      } catch (e) {
        if (isBerthError(e, 'NotFound')) throw this.err(inst, `--from=${from}: no stage and no image by that name`);
        throw this.err(inst, `--from=${from}: ${reason(e)}`);
      }
      layers = img.layers;
      ident = `image ${img.id}`;
    }
    const chain = layers[layers.length - 1]?.chainId;
    const open = async () => {
      const snap = `build-src-${randomBytes(8).toString('hex')}-p${process.pid}`;
      this.be.snapshots.prepare(snap, chain);
      // Mounted until close(): the caller copies from it or binds it.
      let release!: () => void;
      const done = new Promise<void>((r) => (release = r));
      let ready!: (d: string) => void;
      const dirP = new Promise<string>((r) => (ready = r));
      const mounted = this.be.mount(snap, false, async (dir) => {
        ready(dir);
        await done;
      });
      mounted.catch(() => {});
      const dir = await Promise.race([dirP, mounted.then(() => '')]);
      const close = async () => {
        release();
        await mounted.catch(() => {});
        try {
          this.be.snapshots.remove(snap);
        } catch {
          /* gone */
        }
      };
      if (!dir) {
        await close();
        await mounted; // rethrows the mount's error
        throw this.err(inst, `--from=${from}: could not mount it`);
      }
      return { dir, close };
    };
    return { ident, open };
  }

  private async copy(st: State, inst: Instruction, label: string): Promise<void> {
    const isAdd = inst.cmd === 'ADD';
    this.checkFlags(inst, isAdd ? ['chown', 'chmod', 'link'] : ['from', 'chown', 'chmod', 'link']);
    const flag = (n: string) => inst.flags.find((f) => f.name === n)?.value;
    const args = inst.json ?? this.words(st, inst, inst.rest.trim());
    if (args.length < 2) throw this.err(inst, `${inst.cmd} requires at least two arguments, but got ${args.length}`);
    const rawDest = inst.json ? this.word(st, inst, args[args.length - 1]!) : args[args.length - 1]!;
    const srcs = (inst.json ? args.slice(0, -1).map((a) => this.word(st, inst, a)) : args.slice(0, -1));
    const chownRaw = flag('chown') !== undefined ? this.word(st, inst, flag('chown')!) : undefined;
    const chmodRaw = flag('chmod');
    let chmod: number | undefined;
    if (chmodRaw !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodRaw)) throw this.err(inst, `${inst.cmd} --chmod=${chmodRaw}: use an octal mode like 755`);
      chmod = parseInt(chmodRaw, 8);
    }
    const destIsDirSyntax = rawDest.endsWith('/') || rawDest === '.' || rawDest.endsWith('/.');
    const dest = posix.resolve(st.config.WorkingDir || '/', rawDest);
    const fromRaw = flag('from');
    const from = fromRaw !== undefined ? this.word(st, inst, fromRaw) : undefined;
    // Heredoc sources: `COPY <<EOF /dest` writes the heredoc's content as a file.
    const heredocs = new Map(inst.heredocs.map((h) => [h.name, h]));
    const fileSrcs: string[] = [];
    const inline: { name: string; content: string }[] = [];
    for (const s of srcs) {
      const m = /^<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(s);
      const h = m ? heredocs.get(m[2]!) : undefined;
      if (h) inline.push({ name: h.name, content: h.expand ? this.expand(st, inst, h.content) : h.content });
      else fileSrcs.push(s);
    }
    for (const s of fileSrcs) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s)) {
        if (isAdd) throw this.err(inst, `ADD ${s}: sources from URLs and git are not supported (berth builds stay offline): download in a RUN step, or COPY a local file`);
        throw this.err(inst, `COPY ${s}: COPY takes files of the build context; URLs need ADD`);
      }
    }
    let sources: Entry[] = [];
    let srcCtx: BuildContext | undefined;
    let ident: string;
    let fromSrc: Awaited<ReturnType<Builder['sourceRoot']>> | undefined;
    if (from === undefined) {
      const ctx = fileSrcs.length ? this.context() : undefined;
      try {
        for (const s of fileSrcs) sources.push(...ctx!.resolve(s));
        ident = `context ${ctx ? ctx.digestSources(sources) : ''}`;
      } catch (e) {
        if (e instanceof ContextError) throw this.err(inst, `${inst.cmd} ${e.message}`);
        throw this.err(inst, `${inst.cmd}: ${reason(e)}`);
      }
      srcCtx = ctx;
    } else {
      fromSrc = await this.sourceRoot(st, inst, from);
      ident = `${fromSrc.ident} ${JSON.stringify(fileSrcs)}`;
    }
    const count = (from === undefined ? sources.length : fileSrcs.length) + inline.length;
    const multi = count > 1 || srcs.some((s) => /[*?[]/.test(s));
    if (count > 1 && !destIsDirSyntax) throw this.err(inst, `When using ${inst.cmd} with more than one source file, the destination must be a directory and end with a /`);
    const inlineDigest = inline.map((h) => `${h.name} ${sha(h.content)}`).join(',');
    const keyText = JSON.stringify({ cmd: inst.cmd, dest, destDir: destIsDirSyntax, chown: chownRaw ?? '', chmod: chmodRaw ?? '', src: ident, inline: inlineDigest });
    const createdBy = `${inst.cmd} ${[...fileSrcs, ...inline.map((h) => `<<${h.name}`)].join(' ')} ${rawDest} # buildkit`;
    // The same instruction built before (with other contents, or on another parent): its layer's
    // unchanged files are hard-linked into the new layer instead of written again.
    const reuseKey = from === undefined ? sha(JSON.stringify({ cmd: inst.cmd, dest, destDir: destIsDirSyntax, chown: chownRaw ?? '', chmod: chmodRaw ?? '', srcs: fileSrcs })) : undefined;
    const written: Record<string, string> = {};
    const { ran, entry } = await this.layerStep(st, inst, label, keyText, createdBy, async (snap) => {
      let closeFrom: (() => Promise<void>) | undefined;
      this.reuse = reuseKey ? this.openReuse(reuseKey, snap) : undefined;
      this.written = written;
      try {
        let stageSrc: StageTree | undefined;
        const stageSources: StageSource[] = [];
        if (fromSrc) {
          // The source stage through a rooted session: a link a RUN step planted in it resolves
          // inside it (a path through it too), never on the host.
          const h = await fromSrc.open();
          closeFrom = h.close;
          const t = await StageTree.open(h.dir);
          stageSrc = t;
          closeFrom = async () => {
            await t.close();
            await h.close();
          };
          for (const s of fileSrcs) {
            const found = await resolveInStage(stageSrc, s);
            if (typeof found === 'string') throw this.err(inst, `${inst.cmd} --from=${from} ${JSON.stringify(s)}: ${found} in stage or image ${JSON.stringify(from)}`);
            stageSources.push(...found);
          }
        }
        await this.be.mount(snap, true, (root) =>
          withStageTree(root, inst.cmd, async (dst) => {
            const own = await this.owner(dst, inst, chownRaw);
            const dirMeta = { mode: 0o755, ...own };
            const jobs: (() => Promise<void>)[] = [];
            const destIsDir = destIsDirSyntax || multi || (await dst.isDir(dest));
            for (const h of inline) {
              const target = destIsDir ? posix.join(dest, h.name) : dest;
              await dst.mkdirp(posix.dirname(target), dirMeta);
              await dst.placeFile(target, Buffer.from(h.content), { mode: chmod ?? 0o644, ...own }, `<<${h.name}`);
            }
            for (const s of stageSources) {
              if (s.st.type === 'dir') {
                await dst.mkdirp(dest, dirMeta);
                for (const e of await walkStage(stageSrc!, s.path)) {
                  const job = await placeFromStage(stageSrc!, dst, posix.join(dest, e.rel), e, own, chmod);
                  if (job) jobs.push(job);
                }
              } else {
                const target = destIsDir ? posix.join(dest, posix.basename(s.rel)) : dest;
                await dst.mkdirp(posix.dirname(target), dirMeta);
                const job = await placeFromStage(stageSrc!, dst, target, s, own, chmod);
                if (job) jobs.push(job);
              }
              await pool(jobs.splice(0), 16);
            }
            for (const s of sources) {
              if (s.st.isDirectory()) {
                await dst.mkdirp(dest, dirMeta);
                for (const e of srcCtx!.walk(s)) {
                  const rel = s.rel === '' ? e.rel : e.rel.slice(s.rel.length + 1);
                  const job = await this.place(root, dst, posix.join(dest, rel), e, own, chmod, srcCtx!);
                  if (job) jobs.push(job);
                }
              } else if (isAdd && s.st.isFile() && isArchive(s.abs)) {
                await dst.mkdirp(dest, dirMeta);
                try {
                  await this.be.extractArchive(root, dest, s.abs, `ADD ${s.rel}`);
                } catch (e) {
                  throw this.err(inst, `ADD ${s.rel}: extracting the archive: ${reason(e)}`);
                }
              } else {
                const target = destIsDir ? posix.join(dest, basename(s.rel || s.abs)) : dest;
                await dst.mkdirp(posix.dirname(target), dirMeta);
                const job = await this.place(root, dst, target, s, own, chmod, srcCtx!);
                if (job) jobs.push(job);
              }
              // Each source's files are written before the next source can overwrite them.
              await pool(jobs.splice(0), 16);
            }
          }),
        );
      } catch (e) {
        if (isBerthError(e) && e.message.startsWith(`${inst.file}:`)) throw e;
        throw this.err(inst, `${inst.cmd}: ${reason(e)}`);
      } finally {
        this.reuse = undefined;
        await closeFrom?.();
      }
    });
    if (ran && entry.layer && reuseKey && Object.keys(written).length) this.cache.putReuse(reuseKey, { chainId: entry.layer.chainId, files: written });
  }

  /** The earlier layer of a COPY to hard-link unchanged files from, with the new snapshot's upper directory. */
  private openReuse(reuseKey: string, snap: string): Reuse | undefined {
    const m = this.be.snapshots.mounts(snap)[0];
    const upper = m?.type === 'overlay' ? m.options.find((o) => o.startsWith('upperdir='))?.slice('upperdir='.length) : undefined;
    if (!upper) return undefined;
    const rec = this.cache.getReuse(reuseKey);
    if (!rec) return { upper, files: {}, dir: '' };
    let dir = '';
    try {
      dir = this.be.snapshots.layerPath(rec.chainId);
    } catch {
      return { upper, files: {}, dir: '' };
    }
    return { upper, files: rec.files, dir };
  }

  /**
   * --chown=USER[:GROUP]: numeric ids, or names looked up in the image's /etc/passwd and
   * /etc/group (oci/user.ts, with COPY --chown's rule: an id alone is both uid and gid).
   */
  private async owner(t: StageTree, inst: Instruction, spec: string | undefined): Promise<{ uid: number; gid: number }> {
    if (spec === undefined || spec === '') return { uid: 0, gid: 0 };
    const read = async (f: string) => (await t.readFile(f))?.toString('utf8') ?? '';
    const file = { user: '/etc/passwd', group: '/etc/group' } as const;
    const { uid, gid } = resolveUser(spec, await read(file.user), await read(file.group), {
      chown: true,
      missing: (what, name) => this.err(inst, `${inst.cmd} --chown=${spec}: no ${what} ${JSON.stringify(name)} in the image's ${file[what]}`),
    });
    return { uid, gid };
  }

  /** USER's ids as a process gets them: names (and a uid's own group) from the stage's /etc/passwd and /etc/group, read inside the stage. */
  private async userIds(t: StageTree, inst: Instruction, spec: string): Promise<{ uid: number; gid: number }> {
    const read = async (f: string) => (await t.readFile(f))?.toString('utf8') ?? '';
    const { uid, gid } = resolveUser(spec, await read('/etc/passwd'), await read('/etc/group'), {
      missing: (what, name) => this.err(inst, `unable to find ${what} ${name}: no matching entries in ${what === 'user' ? 'passwd' : 'group'} file`),
    });
    return { uid, gid };
  }

  /**
   * One file, link or directory of the build context at `target` (a path inside the stage), as
   * COPY makes it, written through the stage's rooted session. Directories and links are made at
   * once; a file is returned as a job to run with others in parallel (file creation waits on the
   * disk: overlapping the waits is most of a COPY's speed).
   */
  private async place(root: string, dst: StageTree, target: string, e: Entry, own: { uid: number; gid: number }, chmodTo: number | undefined, srcCtx: BuildContext): Promise<(() => Promise<void>) | undefined> {
    const mode = chmodTo ?? e.st.mode & 0o7777;
    const what = e.rel || e.abs;
    // Node's Stats times, as the context's file has them (to the millisecond).
    const times = { atimeNs: BigInt(Math.floor(e.st.atimeMs)) * 1_000_000n, mtimeNs: BigInt(Math.floor(e.st.mtimeMs)) * 1_000_000n };
    if (e.st.isDirectory()) {
      await dst.placeDir(target, { mode, ...own });
      return undefined;
    }
    if (e.st.isSymbolicLink()) {
      await dst.placeSymlink(target, readlinkSync(e.abs), { mode, ...own, ...times }, what);
      return undefined;
    }
    if (!e.st.isFile()) return undefined; // sockets, fifos and devices are not copied
    const meta = { mode, ...own, ...times };
    const write = async () => {
      if (e.st.size > 1 << 20) {
        const stream = createReadStream(e.abs);
        try {
          await dst.placeFile(target, stream, meta, what);
        } finally {
          stream.destroy();
        }
        return;
      }
      const data = this.hashes.take(e.abs, e.st) ?? (await nodeFsPromises().readFile(e.abs));
      await dst.placeFile(target, data, meta, what);
    };
    const reuse = this.reuse;
    if (reuse) {
      // What the file will be: its content and the metadata COPY gives it.
      const sig = `${srcCtx.fileDigest(e)} ${mode.toString(8)} ${own.uid}:${own.gid} ${e.st.mtimeMs}`;
      this.written[target] = sig;
      // Linked (layer to upper directory: both berth's own paths) only where the path has no
      // symlink in it, so that the upper directory mirrors it; what is there is removed first.
      if (reuse.files[target] === sig && this.be.secureJoin(root, posix.dirname(target)) === join(root, posix.dirname(target))) {
        const from = join(reuse.dir, target);
        const to = join(reuse.upper, target);
        return async () => {
          try {
            await dst.remove(target, what);
            await nodeFsPromises().link(from, to);
            this.stats.linked++;
          } catch {
            await write();
          }
        };
      }
    }
    return write;
  }
}

/** A COPY --from source found in the source stage: its path there and what it is. */
interface StageSource {
  /** Its path inside the stage (a link in it resolved inside the stage). */
  path: string;
  /** Relative to the source directory being copied (or its own name). */
  rel: string;
  st: StageStat;
  /** The path itself is a link, followed (inside the stage) to what it names. */
  follow: boolean;
}

const GLOB = /[*?[]/;

/**
 * The entries a COPY --from source names in the stage, as Docker resolves them: a path, or each
 * match of a glob, is followed inside the stage when it is a link (a link on the way too); links
 * below a copied directory are copied as links. A string: why nothing was found.
 */
async function resolveInStage(t: StageTree, src: string): Promise<StageSource[] | string> {
  const norm = posix.normalize(`/${src}`).slice(1).replace(/\/$/, '');
  if (!GLOB.test(norm)) {
    const st = await t.stat(norm, true);
    if (!st) return 'file not found';
    return [{ path: norm, rel: norm === '' ? '' : posix.basename(norm), st, follow: true }];
  }
  const out: StageSource[] = [];
  const parts = norm.split('/');
  const visit = async (i: number, base: string): Promise<void> => {
    const head = parts[i]!;
    const last = i === parts.length - 1;
    const rel = (n: string) => (base === '' ? n : `${base}/${n}`);
    if (!GLOB.test(head)) {
      if (!last) return visit(i + 1, rel(head));
      const st = await t.stat(rel(head), true);
      if (st) out.push({ path: rel(head), rel: head, st, follow: true });
      return;
    }
    let names: string[];
    try {
      names = await t.names(base, true);
    } catch {
      return;
    }
    for (const n of names) {
      if (!matchComponent(head, n)) continue;
      if (!last) {
        await visit(i + 1, rel(n));
        continue;
      }
      // A match that is a link is followed inside the stage too (as Docker does).
      const st = await t.stat(rel(n), true);
      if (st) out.push({ path: rel(n), rel: n, st, follow: true });
    }
  };
  await visit(0, '');
  return out.length ? out : 'no source files were specified (no match)';
}

/** Every entry below a stage directory (not the directory itself), parents before children, sorted. */
async function walkStage(t: StageTree, dir: string): Promise<StageSource[]> {
  const out: StageSource[] = [];
  const rec = async (path: string, rel: string, follow: boolean) => {
    for (const n of await t.names(path, follow)) {
      const p = path === '' ? n : `${path}/${n}`;
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = await t.stat(p);
      if (!st) continue;
      out.push({ path: p, rel: r, st, follow: false });
      if (st.type === 'dir') await rec(p, r, false);
    }
  };
  await rec(dir, '', true);
  return out;
}

/** One entry of a source stage at `target` of the stage being built; a file as a job (see Builder.place). */
async function placeFromStage(src: StageTree, dst: StageTree, target: string, e: StageSource, own: { uid: number; gid: number }, chmodTo: number | undefined): Promise<(() => Promise<void>) | undefined> {
  const meta = { mode: chmodTo ?? e.st.mode, ...own, atimeNs: e.st.atimeNs, mtimeNs: e.st.mtimeNs };
  const what = `/${e.path}`;
  if (e.st.type === 'dir') {
    await dst.placeDir(target, meta);
    return undefined;
  }
  if (e.st.type === 'symlink') {
    await dst.placeSymlink(target, await src.readlink(e.path), meta, what);
    return undefined;
  }
  if (e.st.type !== 'file') return undefined; // sockets, fifos and devices are not copied
  return async () => {
    const { stream } = await src.openStream(e.path, e.follow);
    try {
      await dst.placeFile(target, stream, meta, what);
    } finally {
      stream.destroy();
    }
  };
}

/** Runs jobs, `n` at a time; the first failure is thrown once all have stopped. */
async function pool(jobs: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < jobs.length && failure === undefined) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** A local tar, possibly gzip, bzip2, xz or zstd compressed (ADD extracts these). */
function isArchive(p: string): boolean {
  const b = Buffer.alloc(262);
  let n = 0;
  const fd = openSync(p, 'r');
  try {
    n = readSync(fd, b, 0, b.length, 0);
  } finally {
    closeSync(fd);
  }
  const h = b.subarray(0, n);
  if (h.length >= 2 && h[0] === 0x1f && h[1] === 0x8b) return true;
  if (h.length >= 3 && h.toString('latin1', 0, 3) === 'BZh') return true;
  if (h.length >= 6 && h.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  if (h.length >= 4 && h.readUInt32LE(0) === 0xfd2fb528) return true;
  return h.length >= 262 && h.toString('latin1', 257, 262) === 'ustar';
}

function parseCsv(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    if (!part) continue;
    const i = part.indexOf('=');
    if (i < 0) out[part.trim()] = 'true';
    else out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function wordsOf(inst: Instruction, escape: string): string[] {
  try {
    return splitRaw(inst.rest.trim(), escape);
  } catch (e) {
    throw dockerfileError(inst.file, inst.line, `${inst.cmd}: ${reason(e)}`);
  }
}

function safeWord(s: string, env: Lookup, escape: string): string {
  try {
    return processWord(s, env, escape);
  } catch (e) {
    if (e instanceof LexError) return s;
    throw e;
  }
}

