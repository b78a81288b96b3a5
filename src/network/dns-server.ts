/**
 * berth's DNS server for one user-defined network (bundled as dist/berth-dns.cjs, run detached):
 * listens on the network's gateway address, port 53 (UDP and TCP), answers A queries for the names in its
 * records file (containers' names and aliases; AAAA gets an empty answer since berth's networks
 * are IPv4), and forwards every other query to the upstream resolvers it was given, relaying their
 * answer. It re-reads the records file when it changes and ends when the file is removed.
 *
 *   node berth-dns.cjs LISTEN_IP RECORDS_FILE PID_FILE UPSTREAM[,UPSTREAM...]   (host[:port])
 *
 * The program's process (arguments, signals) is src/network/dns-main.ts; this file is its logic.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { connect as connectTcp, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

interface Records {
  names: Record<string, string[]>;
}

export function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  let i = 12;
  const labels: string[] = [];
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i]!;
    if (len === 0) {
      i++;
      break;
    }
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i), end: i + 4 };
}

/** An answer to the query `msg` with these IPv4 addresses (none: an empty NOERROR answer). */
export function answer(msg: Buffer, qEnd: number, ips: string[], rcode = 0): Buffer {
  const head = Buffer.from(msg.subarray(0, qEnd));
  const rd = msg[2]! & 1;
  head[2] = 0x80 | 0x04 | rd; // QR, AA, RD as asked
  head[3] = 0x80 | rcode; // RA
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(ips.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const rrs = ips.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((b, k) => (rr[12 + k] = Number(b)));
    return rr;
  });
  return Buffer.concat([head, ...rrs]);
}

/** A DNS message over TCP: its length (2 bytes), then it. */
function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/** A stream's data handler that calls `onMessage` with each whole framed message. */
function unframe(onMessage: (msg: Buffer) => void): (d: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      onMessage(msg);
    }
  };
}

export interface DnsServerOptions {
  /** The address to listen on (port 53, UDP and TCP): the network's gateway. */
  listen: string;
  /** The records file (JSON: names → addresses), re-read when it changes; the server ends when it is gone. */
  recordsFile: string;
  /** Written with the server's pid once it listens; removed at the end if it still holds that pid. */
  pidFile: string;
  upstreams: { host: string; port: number }[];
}

/** The program's arguments (LISTEN_IP RECORDS_FILE PID_FILE UPSTREAM[,UPSTREAM...]), or undefined where some are missing. */
export function parseDnsArgs(argv: string[]): DnsServerOptions | undefined {
  const [listen, recordsFile, pidFile, upstreamArg = ''] = argv;
  if (!listen || !recordsFile || !pidFile) return undefined;
  const upstreams = upstreamArg
    .split(',')
    .filter(Boolean)
    .map((u) => {
      const m = /^(.*?)(?::(\d+))?$/.exec(u)!;
      return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
    });
  return { listen, recordsFile, pidFile, upstreams };
}

/**
 * The server (src/network/dns-main.ts runs it as its own program): answers until the records file
 * is gone or `stop` is called, which closes its sockets so that nothing keeps the process.
 */
export function serveDns(o: DnsServerOptions): { stop: () => void } {
  const { listen, recordsFile, pidFile, upstreams } = o;
  let records: Records = { names: {} };
  let mtime = -1;
  const reload = (): boolean => {
    try {
      const st = statSync(recordsFile);
      if (st.mtimeMs !== mtime) {
        mtime = st.mtimeMs;
        records = JSON.parse(readFileSync(recordsFile, 'utf8')) as Records;
      }
      return true;
    } catch {
      return false;
    }
  };
  const server: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  const forwarder: Socket = createSocket('udp4');
  const pending = new Map<number, { rinfo: RemoteInfo; origId: number; tries: number; msg: Buffer; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    for (const p of pending.values()) clearTimeout(p.timer);
    server.close();
    forwarder.close();
    tcp.close();
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
    } catch {
      /* gone */
    }
  };
  /** The upstream for a query's try number `tries` (each one twice, in turn), or undefined when all have been tried. */
  const upstreamFor = (tries: number) => (tries < Math.max(upstreams.length, 1) * 2 ? upstreams[tries % Math.max(upstreams.length, 1)] : undefined);
  /** SERVFAIL for a query (none for one that does not parse). */
  const servfail = (msg: Buffer): Buffer | undefined => {
    const q = parseQuestion(msg);
    return q && answer(msg, q.end, [], 2);
  };
  const forward = (id: number) => {
    const p = pending.get(id);
    if (!p) return;
    const up = upstreamFor(p.tries);
    if (!up) {
      pending.delete(id);
      const fail = servfail(p.msg);
      if (fail) server.send(fail, p.rinfo.port, p.rinfo.address);
      return;
    }
    p.tries++;
    const out = Buffer.from(p.msg);
    out.writeUInt16BE(id, 0);
    forwarder.send(out, up.port, up.host);
    p.timer = setTimeout(() => forward(id), 2000);
  };
  forwarder.on('message', (msg) => {
    if (msg.length < 12) return;
    const p = pending.get(msg.readUInt16BE(0));
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(msg.readUInt16BE(0));
    const back = Buffer.from(msg);
    back.writeUInt16BE(p.origId, 0);
    server.send(back, p.rinfo.port, p.rinfo.address);
  });
  /** The answer for a name of this network (A, and an empty AAAA), or undefined. */
  const localAnswer = (msg: Buffer, q: NonNullable<ReturnType<typeof parseQuestion>>): Buffer | undefined => {
    const ips = records.names[q.name.replace(/\.$/, '')];
    return ips && (q.type === 1 || q.type === 28 || q.type === 255) ? answer(msg, q.end, q.type === 28 ? [] : ips) : undefined;
  };
  server.on('message', (msg, rinfo) => {
    if (!reload()) return stop();
    const q = parseQuestion(msg);
    if (!q) return;
    const local = localAnswer(msg, q);
    if (local) {
      server.send(local, rinfo.port, rinfo.address);
      return;
    }
    const id = nextId;
    nextId = (nextId % 65535) + 1;
    pending.set(id, { rinfo, origId: msg.readUInt16BE(0), tries: 0, msg, timer: setTimeout(() => {}, 0) });
    forward(id);
  });
  server.on('error', () => stop());
  forwarder.on('error', () => {});

  // DNS over TCP (clients retry there after a truncated answer, and some use it first): the
  // same answers; other names are forwarded over TCP to the upstreams in turn.
  const forwardTcp = (msg: Buffer, reply: (b: Buffer) => void, tries = 0): void => {
    const up = upstreamFor(tries);
    if (!up) {
      const fail = servfail(msg);
      if (fail) reply(fail);
      return;
    }
    let done = false;
    const s = connectTcp({ host: up.host, port: up.port }, () => s.write(frame(msg)));
    const next = () => {
      if (done) return;
      done = true;
      s.destroy();
      forwardTcp(msg, reply, tries + 1);
    };
    s.setTimeout(2000, next);
    s.on('error', next);
    s.on(
      'data',
      unframe((m) => {
        if (done) return;
        done = true;
        s.destroy();
        reply(m);
      }),
    );
    s.on('close', next);
  };
  const tcp: TcpServer = createTcpServer((c) => {
    c.setTimeout(10_000, () => c.destroy());
    c.on('error', () => {});
    c.on(
      'data',
      unframe((msg) => {
        if (!reload()) return stop();
        const q = parseQuestion(msg);
        if (!q) return;
        const reply = (b: Buffer) => {
          if (!c.destroyed) c.write(frame(b));
        };
        const local = localAnswer(msg, q);
        if (local) reply(local);
        else forwardTcp(msg, reply);
      }),
    );
  });
  tcp.on('error', () => {});
  const watch = setInterval(() => {
    if (!reload()) stop();
  }, 1000);
  let ready = false;
  const up = () => {
    if (ready) return;
    ready = true;
    reload();
    writeFileSync(pidFile, String(process.pid));
  };
  server.bind(53, listen, () => {
    // (UDP is the service; without TCP, where its port is taken, it still runs)
    tcp.once('error', up);
    tcp.listen(53, listen, up);
  });
  return { stop };
}
