/**
 * A container's stdio is the caller's streams (ContainerStdio), not this process's: `run` and
 * `exec` (and `start` attached) with in-memory streams (PassThrough) as stdin, stdout and stderr, without a terminal
 * (the streams relayed through pipes) and with one (the pty copied to them by the helper; its
 * first size and a later one reach the container's terminal).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ContainerService, ImageService, type api, type ContainerStdio, type TerminalSize } from '../../src/engine/index.js';
import { cleanupTmp, haveBusybox, isRoot, tmp } from '../helpers.js';

const skip = !isRoot ? 'needs root' : !haveBusybox ? 'needs busybox (the starter image)' : false;

/** In-memory stdio; `text()` is what came out so far, `until(re)` resolves once stdout matches. */
function memoryStdio(terminal?: TerminalSize) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiting.splice(0)) {
      if (w.re.test(out)) w.resolve();
      else waiting.push(w);
    }
  });
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stdio: ContainerStdio = { stdin, stdout, stderr, terminal };
  return {
    stdio,
    stdin,
    out: () => out,
    err: () => err,
    until: (re: RegExp) => new Promise<void>((resolve) => (re.test(out) ? resolve() : waiting.push({ re, resolve }))),
  };
}

/** A terminal size whose later sizes the test sets. */
function terminal(rows: number, cols: number): TerminalSize & { set(rows: number, cols: number): void } {
  const e = new EventEmitter();
  return {
    rows,
    cols,
    onResize(listener) {
      e.on('resize', listener);
      return () => e.removeListener('resize', listener);
    },
    set: (r, c) => e.emit('resize', r, c),
  };
}

describe('container stdio as the caller\'s streams', { skip }, () => {
  let containers: ContainerService;
  /** A create request as the CLI makes one (busybox, --network none, -i, -t, --rm). */
  const req = (o: { command: string[]; interactive?: boolean; tty?: boolean; rm?: boolean }): api.ContainerCreateRequest => ({
    Config: { Image: 'busybox', Cmd: o.command, OpenStdin: o.interactive === true, StdinOnce: o.interactive === true, AttachStdin: o.interactive === true, Tty: o.tty === true },
    HostConfig: { NetworkMode: 'none', AutoRemove: o.rm !== false },
    NetworkingConfig: {},
  });

  before(async () => {
    const root = tmp('berth-stdio-root-');
    const runroot = tmp('berth-stdio-runroot-');
    let c: ContainerService | undefined;
    const images = new ImageService({ root, inUse: () => c!.imagesInUse() });
    c = containers = new ContainerService(images, { root, runroot });
    await images.starter();
  });
  after(async () => {
    for (const r of containers.list()) await containers.remove(r.Id, true, true).catch(() => {});
    cleanupTmp();
  });

  it('run without a terminal: input in, stdout and stderr apart, the exit code', async () => {
    const io = memoryStdio();
    io.stdin.end('hello from memory\n');
    const r = await containers.run(req({ interactive: true, command: ['sh', '-c', 'cat; echo to-stderr >&2; exit 3'] }), { stdio: io.stdio });
    assert.equal(r.code, 3);
    assert.equal(io.out(), 'hello from memory\n');
    assert.equal(io.err(), 'to-stderr\n');
  });

  it('run without stdin: the container reads end of file', async () => {
    const io = memoryStdio();
    const r = await containers.run(req({ command: ['sh', '-c', 'cat; echo eof'] }), { stdio: { stdout: io.stdio.stdout, stderr: io.stdio.stderr } });
    assert.equal(r.code, 0);
    assert.equal(io.out(), 'eof\n');
  });

  it('run with a terminal: its size, a new size before the next input, input through the pty', async () => {
    const size = terminal(31, 101);
    const io = memoryStdio(size);
    const done = containers.run(req({ tty: true, interactive: true, command: ['sh', '-c', 'test -t 0 && test -t 1 && echo tty:$(tty); stty size; read line; stty size; echo got:$line; exit 5'] }), { stdio: io.stdio });
    await io.until(/31 101\r\n/);
    size.set(42, 123);
    io.stdin.write('typed-in\n');
    const r = await done;
    assert.equal(r.code, 5);
    assert.match(io.out(), /^tty:\/dev\/pts\/0\r\n31 101\r\n/);
    assert.match(io.out(), /typed-in\r\n42 123\r\ngot:typed-in\r\n$/);
    // A terminal's output is all on stdout.
    assert.equal(io.err(), '');
  });

  it('run with one connection as stdin, stdout and stderr (as an API server hands over a hijacked one)', async () => {
    const path = join(tmp('berth-stdio-sock-'), 's');
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      const client = connect(path);
      let back = '';
      client.on('data', (d: Buffer) => (back += d.toString()));
      const conn = await accepted;
      client.end('over the wire\n');
      const r = await containers.run(req({ interactive: true, command: ['sh', '-c', 'cat; echo done'] }), { stdio: { stdin: conn, stdout: conn, stderr: conn } });
      assert.equal(r.code, 0);
      // The connection stays the caller's: open until it ends it.
      const closed = new Promise((resolve) => client.once('close', resolve));
      conn.end();
      await closed;
      assert.equal(back, 'over the wire\ndone\n');
    } finally {
      server.close();
    }
  });

  it('start attached (start -a) of a created container, twice: its output each time, its stdin', async () => {
    const rec = await containers.create(req({ interactive: true, rm: false, command: ['sh', '-c', 'read x; echo got:$x'] }));
    try {
      for (const input of ['first', 'second']) {
        const io = memoryStdio();
        io.stdin.end(`${input}\n`);
        const r = await containers.start(rec.Id, { attach: true, stdio: io.stdio });
        assert.equal(r.code, 0);
        assert.equal(io.out(), `got:${input}\n`);
      }
    } finally {
      await containers.remove(rec.Id, true, true);
    }
  });

  it('exec with and without a terminal in a running container', async () => {
    const { id } = await containers.run(req({ rm: false, command: ['sleep', '1000'] }), { detach: true });
    try {
      const plain = memoryStdio();
      plain.stdin.end('line one\nline two\n');
      const code = await containers.exec(id, { Cmd: ['sh', '-c', 'wc -l; echo oops >&2; exit 7'] }, { stdio: plain.stdio });
      assert.equal(code, 7);
      assert.equal(plain.out().trim(), '2');
      assert.equal(plain.err(), 'oops\n');

      const size = terminal(33, 77);
      const tty = memoryStdio(size);
      const running = containers.exec(id, { Cmd: ['sh', '-c', 'stty size; read line; stty size; echo got:$line'], Tty: true }, { stdio: tty.stdio });
      await tty.until(/33 77\r\n/);
      size.set(50, 160);
      tty.stdin.write('exec-input\n');
      assert.equal(await running, 0);
      assert.match(tty.out(), /^33 77\r\nexec-input\r\n50 160\r\ngot:exec-input\r\n$/);

      // Detached, it outlives the call: in-memory streams are not relayed to it (it gets /dev/null).
      const detached = memoryStdio();
      assert.equal(await containers.exec(id, { Cmd: ['sh', '-c', 'echo lost; echo lost >&2'] }, { detach: true, stdio: detached.stdio }), 0);
      assert.equal(detached.out() + detached.err(), '');
    } finally {
      await containers.remove(id, true, true);
    }
  });
});
