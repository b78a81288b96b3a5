/**
 * Running berth-helper: hands it a plan, reads its one-line results
 * (`pid N`, `sync TAG`, `ready`, `done`, `error IDX ERRNO DETAIL`, and how the container ended:
 * `exit CODE TIME` or `signal SIG CORE TIME`, read by parseExitStatus).
 */
import { mark } from '../lib/timing.js';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { getSystemErrorMap } from 'node:util';
import { BerthError } from '../lib/errors.js';
import { parseExitStatus, type HelperExit } from './exit-status.js';
import { encodePlan, type OpName, type PlanOp } from './helper-ops.js';
import { helperPath } from './paths.js';

export type { HelperExit } from './exit-status.js';

/** An op of the plan failed inside the helper. */
export class HelperOpError extends BerthError {
  constructor(
    readonly op: OpName | undefined,
    readonly opIndex: number,
    readonly errno: number,
    readonly errnoName: string,
    readonly detail: string,
    message: string,
  ) {
    super(errnoName === 'ENOENT' ? 'NotFound' : errnoName === 'EINVAL' ? 'InvalidArgument' : 'Internal', message);
  }
}

let errnoMap: Map<number, [string, string]> | undefined;
/** [name, message] of an errno number. */
export function errnoInfo(errno: number): [string, string] {
  errnoMap ??= getSystemErrorMap();
  return errnoMap.get(-errno) ?? [`E${errno}`, `error ${errno}`];
}

/** A terminal's size (read when it starts, and again once it runs), and where its later sizes come from (a subscription; it returns its end). */
export interface TerminalSize {
  rows: number;
  cols: number;
  onResize?(listener: (rows: number, cols: number) => void): () => void;
}

export interface HelperOptions {
  /**
   * fds 0, 1, 2 of the container (and anything else before the plan fds). A stream with an fd of
   * its own is passed as that fd; any other stream (in memory, a connection) through a pipe, and
   * `exited` waits until the helper's output in it was written.
   */
  stdio?: StdioOptions;
  /** A plan with a terminal (PTY): the sizes to give it, after the first (which is in the plan). */
  terminal?: TerminalSize;
  /** Extra host fds passed as the container's fds 3, 4, ... (OCI --preserve-fds). */
  extraFds?: number[];
  /** Called on `sync TAG`; the helper continues when it resolves, and aborts when it rejects. */
  onSync?: (tag: string, pid: number | undefined) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  /** Start the helper in a session of its own, so that it outlives this process (a monitor). */
  detached?: boolean;
  /**
   * Work to do after the helper was spawned and before it gets its plan (it waits for it), so
   * that the helper's own start-up overlaps with it. If it throws, the helper is killed.
   */
  beforePlan?: () => void;
}

export interface HelperSession {
  child: ChildProcess;
  /** Resolves with the container's pid (in the runtime's pid namespace). */
  pid: Promise<number>;
  /** Resolves when the plan reached its READY op; rejects on an op error or early exit. */
  ready: Promise<void>;
  /** Stay mode: resolves when the container ended. */
  exited: Promise<HelperExit>;
  /** Stops reading and lets the process exit without waiting for the helper (detach mode). */
  release(): void;
}

type Stream = Readable | Writable;
const isStream = (x: unknown): x is Stream => typeof x === 'object' && x !== null && typeof (x as { pipe?: unknown }).pipe === 'function';
const streamFd = (s: Stream): number | undefined => {
  const fd = (s as { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
};

/** The spawn form of fds 0-2: a stream's own fd, or a pipe to relay it through. */
function stdioFds(base: unknown[]): { fds: unknown[]; relayed: (Stream | undefined)[] } {
  const relayed: (Stream | undefined)[] = [];
  const fds = base.slice(0, 3).map((x, i) => {
    if (!isStream(x)) return x;
    const fd = streamFd(x);
    if (fd !== undefined) return fd;
    relayed[i] = x;
    return 'pipe';
  });
  return { fds, relayed };
}

/** Joins the relayed streams to the helper's pipes; resolves when its output pipes are closed. */
function relay(child: ChildProcess, relayed: (Stream | undefined)[]): { outputDone: Promise<void>; stop(): void } {
  const input = relayed[0] as Readable | undefined;
  const pipeIn = child.stdio[0] as Writable | null;
  if (input && pipeIn) {
    pipeIn.on('error', () => {}); // the helper is gone before the input ended
    input.pipe(pipeIn);
  }
  const outputs: Promise<void>[] = [];
  for (const i of [1, 2]) {
    const to = relayed[i] as Writable | undefined;
    const from = child.stdio[i] as Readable | null;
    if (!to || !from) continue;
    outputs.push(new Promise((resolve) => from.once('close', resolve)));
    from.pipe(to, { end: false });
  }
  return {
    outputDone: Promise.all(outputs).then(() => {}),
    stop() {
      if (input && pipeIn) {
        input.unpipe(pipeIn);
        pipeIn.destroy();
      }
    },
  };
}

/** The size record of the plan fd (native/tty.c): rows and columns, big-endian. */
function sizeRecord(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.max(0, Math.min(rows, 0xffff)), 0);
  b.writeUInt16BE(Math.max(0, Math.min(cols, 0xffff)), 2);
  return b;
}

export function startHelper(ops: readonly PlanOp[], opts: HelperOptions = {}): HelperSession {
  const { fds, relayed } = stdioFds((opts.stdio ?? ['inherit', 'inherit', 'inherit']) as unknown[]);
  const stdio = [...fds, ...(opts.extraFds ?? []), 'pipe', 'pipe'] as StdioOptions;
  const planFd = 3 + (opts.extraFds?.length ?? 0);
  mark('helper: spawn');
  const child = spawn(helperPath(), [String(planFd), String(planFd + 1)], { stdio, env: opts.env ?? {}, detached: opts.detached === true });
  mark('helper: spawned');
  const planSock = child.stdio[planFd] as Socket;
  const resultSock = child.stdio[planFd + 1] as Socket;
  const relaying = relayed.length > 0 ? relay(child, relayed) : undefined;
  const hasTerminal = ops.some((o) => o.op === 'PTY');
  let endResize: (() => void) | undefined;
  let over = false;

  let pidValue: number | undefined;
  let resolvePid!: (n: number) => void;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  let resolveExit!: (x: HelperExit) => void;
  let rejectExit!: (e: Error) => void;
  const pid = new Promise<number>((res) => (resolvePid = res));
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const exitLine = new Promise<HelperExit>((res, rej) => {
    resolveExit = res;
    rejectExit = rej;
  });
  const finish = () => {
    over = true;
    endResize?.();
    relaying?.stop();
  };
  // With relayed output, the end once all of it was passed on.
  const exited = exitLine.then(
    async (x) => {
      await relaying?.outputDone;
      finish();
      return x;
    },
    (e: unknown) => {
      finish();
      throw e;
    },
  );
  // Avoid unhandled rejections when a caller waits on only one of them.
  ready.catch(() => {});
  exitLine.catch(() => {});
  // New sizes of a terminal go on the plan fd, which the helper keeps open for them: once the
  // plan ran (its SYNC ops read the plan fd too), first the size now (it may have changed since
  // the plan was made), then each new one.
  const terminal = hasTerminal ? opts.terminal : undefined;
  if (terminal) {
    const send = (rows: number, cols: number) => planSock.writable && planSock.write(sizeRecord(rows, cols));
    ready.then(
      () => {
        if (over) return;
        send(terminal.rows, terminal.cols);
        endResize = terminal.onResize?.(send);
      },
      () => {},
    );
  }
  exited.catch(() => {});
  let failed: Error | undefined;
  let isReady = false;
  let exitSeen = false;

  const fail = (e: Error) => {
    if (failed) return;
    failed = e;
    rejectReady(e);
    rejectExit(e);
  };

  const onLine = (line: string) => {
    const sp = line.indexOf(' ');
    const word = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    switch (word) {
      case 'pid':
        pidValue = Number(rest);
        resolvePid(pidValue);
        break;
      case 'ready':
        isReady = true;
        resolveReady();
        break;
      case 'sync': {
        const go = opts.onSync ? opts.onSync(rest, pidValue) : Promise.resolve();
        go.then(
          () => planSock.write('c'),
          (e: unknown) => {
            planSock.write('a');
            fail(e instanceof Error ? e : new Error(String(e)));
          },
        );
        break;
      }
      case 'error': {
        const m = /^(-?\d+) (\d+) ?(.*)$/.exec(rest);
        const idx = m ? Number(m[1]) : -1;
        const errno = m ? Number(m[2]) : 0;
        const detail = m ? (m[3] ?? '') : rest;
        const [name, msg] = errnoInfo(errno);
        const op = idx >= 0 && idx < ops.length ? ops[idx] : undefined;
        const what = op?.what ?? (detail || 'berth-helper');
        const extra = op && detail && !op.what.includes(detail) ? ` (${detail})` : '';
        fail(new HelperOpError(op?.op, idx, errno, name, detail, `${what}${extra}: ${msg}`));
        break;
      }
      case 'done': // fs mode: every op ran
        isReady = true;
        exitSeen = true;
        resolveReady();
        resolveExit({ code: 0 });
        break;
      case 'exit':
      case 'signal': {
        const end = parseExitStatus(line);
        if (!end) break;
        exitSeen = true;
        resolveExit(end);
        break;
      }
    }
  };

  let buf = '';
  resultSock.setEncoding('utf8');
  resultSock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  resultSock.on('error', () => {});
  planSock.on('error', () => {});
  resultSock.on('end', () => {
    if (!isReady) fail(new BerthError('Internal', 'container process exited before it was ready'));
    else if (!exitSeen) fail(new BerthError('Internal', 'berth-helper ended without reporting the exit status'));
  });
  child.on('error', (e) => fail(new BerthError('Unavailable', `start berth-helper ${JSON.stringify(helperPath())}: ${e.message}`)));

  if (opts.beforePlan) {
    try {
      opts.beforePlan();
    } catch (e) {
      child.kill('SIGKILL');
      planSock.destroy();
      resultSock.destroy();
      throw e;
    }
  }
  planSock.write(encodePlan(ops));
  if (!hasTerminal && !ops.some((o) => o.op === 'SYNC')) planSock.end();

  return {
    child,
    pid,
    ready,
    exited,
    release() {
      finish();
      planSock.destroy();
      resultSock.destroy();
      child.unref();
    },
  };
}
