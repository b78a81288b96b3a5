/**
 * berth's registry client against real registries on 127.0.0.1, each started by the test on a
 * free port with its own config file and root directory, and stopped by its pid after: Debian's
 * docker-registry (distribution 2.8) open, with htpasswd basic auth (bcrypt, made with bcryptjs),
 * and with token auth against a token server this test runs (RS256 JWTs signed with a key and
 * certificate openssl makes here); skopeo on the other side of pushes and pulls; and a small fake
 * registry in node for answers a real one does not give (a blob whose bytes do not match its
 * digest, 429 with Retry-After, a connection dropped mid-layer, a multi-platform index).
 * No other registry is contacted: docker.io is mapped to a local mirror with mirrorsOnly.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import tar from 'tar-stream';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !isRoot
  ? 'needs root'
  : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs'))
    ? 'not built (npm run build)'
    : !have('docker-registry')
      ? 'docker-registry is not installed (scripts/setup.sh installs it for the tests)'
      : false;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A command run without blocking this process (the token server and the fake registry live in it). */
function exec(cmd: string, args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...(o.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(o.input ?? '');
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Registry {
  host: string;
  root: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry with its own config and root on 127.0.0.1:PORT; `extra` ends the config (YAML: more of `http`, then `auth`). */
async function startRegistry(dir: string, extra = ''): Promise<Registry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const root = join(dir, 'data');
  const cfg = join(dir, 'config.yml');
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${extra}`);
  const p: ChildProcess = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const stop = async () => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  for (let i = 0; i < 200; i++) {
    if (p.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      () => true,
      () => false,
    );
    if (ok) return { host: `127.0.0.1:${port}`, root, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`docker-registry did not start: ${err}`);
}

describe('berth pull, push, login against registries on 127.0.0.1', { skip }, () => {
  const dir = tmp('berth-registry-');
  const config = join(dir, 'config');
  const env = { BERTH_CONFIG: config };
  const roots: string[] = [];
  const berthIn = (root: string) => (args: string[], input?: string) => exec(bin, ['--root', root, '--runroot', join(root, 'run'), ...args], { input, env });
  const fresh = () => {
    const r = join(dir, `root-${roots.length}`);
    roots.push(r);
    return berthIn(r);
  };
  const berth = fresh();
  const registries: Registry[] = [];
  const servers: Server[] = [];
  let open: Registry;
  let imageId: string;

  const writeConfig = (v: object) => {
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'config.json'), JSON.stringify(v));
  };

  before(async () => {
    // docker.io only through mirrors (none yet): nothing here may reach a public registry.
    writeConfig({ registries: { 'docker.io': { mirrorsOnly: true } } });
    open = await startRegistry(join(dir, 'open'));
    registries.push(open);
    const s = await berth(['starter']);
    assert.equal(s.status, 0, s.stderr);
    imageId = s.stdout.trim();
  });

  after(async () => {
    for (const r of registries) await r.stop();
    for (const s of servers) s.close();
    for (const r of roots) await berthIn(r)(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it('pushes an image and pulls it into another root: same id and digest, and it runs', async () => {
    const ref = `${open.host}/berth/bb:1`;
    assert.equal((await berth(['tag', 'busybox', ref])).status, 0);
    const p = await berth(['push', ref]);
    assert.equal(p.status, 0, p.stderr);
    const layer = /^([0-9a-f]{12}): Preparing$/m.exec(p.stdout)?.[1];
    assert.ok(layer, p.stdout);
    assert.match(p.stdout, new RegExp(`^The push refers to repository \\[${open.host}/berth/bb\\]\\n${layer}: Preparing\\n${layer}: Pushed\\n1: digest: (sha256:[0-9a-f]{64}) size: \\d+\\n$`));
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1]!;
    // Again: the registry has the layer.
    const again = await berth(['push', ref]);
    assert.match(again.stdout, new RegExp(`${layer}: Layer already exists\\n1: digest: ${digest} `));

    const other = fresh();
    const pl = await other(['pull', ref]);
    assert.equal(pl.status, 0, pl.stderr);
    assert.equal(pl.stdout, `1: Pulling from berth/bb\n${layer}: Pulling fs layer\n${layer}: Verifying Checksum\n${layer}: Download complete\n${layer}: Pull complete\nDigest: ${digest}\nStatus: Downloaded newer image for ${ref}\n${ref}\n`);
    const up = await other(['pull', ref]);
    assert.equal(up.stdout, `1: Pulling from berth/bb\nDigest: ${digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`);
    const insp = JSON.parse((await other(['image', 'inspect', ref])).stdout)[0];
    assert.equal(insp.Id, imageId);
    assert.deepEqual(insp.RepoDigests, [`${open.host}/berth/bb@${digest}`]);
    const run = await other(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled']);
    assert.equal(run.stdout, 'pulled\n', run.stderr);
    // By digest, quietly: only the reference.
    const byDigest = await fresh()(['pull', '-q', `${open.host}/berth/bb@${digest}`]);
    assert.equal(byDigest.stdout, `${open.host}/berth/bb@${digest}\n`, byDigest.stderr);
    // manifest inspect: the document as Docker prints it (tab-indented).
    const mi = await other(['manifest', 'inspect', ref]);
    assert.equal(mi.status, 0, mi.stderr);
    assert.match(mi.stdout, /^\{\n\t"schemaVersion": 2,\n\t"mediaType": "application\/vnd\.oci\.image\.manifest\.v1\+json",\n\t"config": \{\n\t\t"mediaType": /);
  });

  it('run and create pull a missing image (stderr shows the pull), push -a sends every tag', async () => {
    const ref = `${open.host}/berth/bb:1`;
    const other = fresh();
    const r = await other(['run', '--rm', '--network', 'none', ref, 'echo', 'ran']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${ref}' locally\\n1: Pulling from berth/bb\\n[0-9a-f]{12}: Pulling fs layer\\n[^]*Status: Downloaded newer image for ${ref}\\n$`));
    const c = await fresh()(['create', '--network', 'none', ref]);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    await berth(['tag', 'busybox', `${open.host}/berth/all:a`]);
    await berth(['tag', 'busybox', `${open.host}/berth/all:b`]);
    const pa = await berth(['push', '-a', `${open.host}/berth/all`]);
    assert.equal(pa.status, 0, pa.stderr);
    assert.match(pa.stdout, /^a: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    assert.match(pa.stdout, /^b: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    const all = await fresh()(['pull', '-a', `${open.host}/berth/all`]);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`^a: Pulling from berth/all\\n[^]*b: Pulling from berth/all\\n[^]*Status: Downloaded newer image for ${open.host}/berth/all\\n${open.host}/berth/all\\n$`));
  });

  it('pulls a many-layer image with layers fetched side by side, each unpacked on its parent in order', async () => {
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo 1 > /a\nRUN echo 2 > /a && echo b > /b\nRUN rm /b && echo c > /c\nRUN mkdir /d && echo d > /d/e\n');
    const ref = `${open.host}/berth/layers:1`;
    const b = await berth(['build', '-q', '--network', 'none', '-t', ref, ctx]);
    assert.equal(b.status, 0, b.stderr);
    const p = await berth(['push', ref]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal((p.stdout.match(/: Pushed$/gm) ?? []).length, 4, p.stdout);
    // The base layer went to berth/bb before: mounted from there.
    assert.match(p.stdout, /^[0-9a-f]{12}: Mounted from berth\/bb$/m);
    const other = fresh();
    const pl = await other(['pull', ref]);
    assert.equal(pl.status, 0, pl.stderr);
    assert.equal((pl.stdout.match(/: Pull complete$/gm) ?? []).length, 5, pl.stdout);
    assert.equal(JSON.parse((await other(['image', 'inspect', ref])).stdout)[0].Id, JSON.parse((await berth(['image', 'inspect', ref])).stdout)[0].Id);
    const run = await other(['run', '--rm', '--network', 'none', ref, 'sh', '-c', 'cat /a /c /d/e; test -e /b || echo no-b']);
    assert.equal(run.stdout, '2\nc\nd\nno-b\n', run.stderr);
  });

  it('mounts a layer from another repository of the registry', async () => {
    const ref = `${open.host}/other/bb:2`;
    assert.equal((await berth(['tag', 'busybox', ref])).status, 0);
    const p = await berth(['push', ref]);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /^[0-9a-f]{12}: Mounted from berth\/(bb|all)$/m);
  });

  it('pulls what skopeo copied in, and skopeo reads what berth pushed', { skip: !have('skopeo') && 'skopeo is not installed' }, async () => {
    const archive = join(dir, 'bb.tar');
    assert.equal((await berth(['save', '-o', archive, 'busybox'])).status, 0);
    const cp = await exec('skopeo', ['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${open.host}/skopeo/bb:s`]);
    assert.equal(cp.status, 0, cp.stderr);
    const other = fresh();
    const pl = await other(['pull', `${open.host}/skopeo/bb:s`]);
    assert.equal(pl.status, 0, pl.stderr);
    const run = await other(['run', '--rm', '--network', 'none', `${open.host}/skopeo/bb:s`, 'echo', 'from-skopeo']);
    assert.equal(run.stdout, 'from-skopeo\n', run.stderr);

    const p = await berth(['push', `${open.host}/berth/bb:1`]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1]!;
    const insp = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${open.host}/berth/bb:1`]);
    assert.equal(insp.status, 0, insp.stderr);
    assert.equal(JSON.parse(insp.stdout).Digest, digest);
    const out = join(dir, 'oci-out');
    const back = await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${open.host}/berth/bb:1`, `oci:${out}:x`]);
    assert.equal(back.status, 0, back.stderr);
    // skopeo may write the manifest anew (its own encoding); the config, and so the image, is the same.
    const blob = (d: string) => readFileSync(join(out, 'blobs', 'sha256', d.slice(7)), 'utf8');
    const manDigest = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests[0].digest as string;
    assert.equal(JSON.parse(blob(manDigest)).config.digest, imageId);
  });

  it('says what Docker says for a missing tag or repository', async () => {
    const t = await berth(['pull', `${open.host}/berth/bb:nope`]);
    assert.notEqual(t.status, 0);
    assert.equal(t.stderr, `Error response from daemon: manifest for ${open.host}/berth/bb:nope not found: manifest unknown: manifest unknown\n`);
    const d = await berth(['pull', `${open.host}/berth/nope`]);
    assert.equal(d.stdout, 'Using default tag: latest\n');
    assert.equal(d.stderr, `Error response from daemon: manifest for ${open.host}/berth/nope:latest not found: manifest unknown: manifest unknown\n`);
    const all = await berth(['pull', '-a', `${open.host}/berth/nope`]);
    assert.equal(all.stderr, `Error response from daemon: repository ${open.host}/berth/nope not found: name unknown: repository name not known to registry\n`);
    const never = await berth(['push', `${open.host}/berth/not-here:1`]);
    assert.equal(never.stdout, `The push refers to repository [${open.host}/berth/not-here]\n`);
    assert.equal(never.stderr, `Error response from daemon: An image does not exist locally with the tag: ${open.host}/berth/not-here\n`);
    const q = await berth(['push', '-q', `${open.host}/berth/bb:1`]);
    assert.equal(q.stdout, `${open.host}/berth/bb:1\n`, q.stderr);
  });

  it('logs in with basic auth (bcrypt htpasswd): a wrong password saves nothing', async () => {
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 8)}\n`);
    const reg = await startRegistry(join(dir, 'basic'), `auth:\n  htpasswd:\n    realm: test\n    path: ${htpasswd}\n`);
    registries.push(reg);
    const ref = `${reg.host}/team/bb:1`;
    await berth(['tag', 'busybox', ref]);
    const denied = await berth(['push', ref]);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /no basic auth credentials\n$/);
    const before = readFileSync(join(config, 'config.json'), 'utf8');
    const bad = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 'wrong\n');
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stderr, `Error response from daemon: login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized\n`);
    assert.equal(readFileSync(join(config, 'config.json'), 'utf8'), before);
    const ok = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 's3cret\n');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const saved = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8'));
    assert.equal(saved.auths[reg.host].auth, Buffer.from('alice:s3cret').toString('base64'));
    const p = await berth(['push', ref]);
    assert.equal(p.status, 0, p.stderr);
    const other = fresh();
    const pl = await other(['pull', ref]);
    assert.equal(pl.status, 0, pl.stderr);
    const lo = await berth(['logout', reg.host]);
    assert.equal(lo.stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal(JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')).auths[reg.host], undefined);
    const gone = await fresh()(['pull', ref]);
    assert.match(gone.stderr, /no basic auth credentials\n$/);
  });

  it('keeps credentials in a credential helper (credsStore: docker-credential-NAME get/store/erase)', async () => {
    const htpasswd = join(dir, 'htpasswd-helper');
    writeFileSync(htpasswd, `carol:${bcrypt.hashSync('helperpw', 8)}\n`);
    const reg = await startRegistry(join(dir, 'helper-reg'), `auth:\n  htpasswd:\n    realm: test\n    path: ${htpasswd}\n`);
    registries.push(reg);
    const bindir = join(dir, 'helper-bin');
    const store = join(dir, 'helper-store');
    mkdirSync(bindir, { recursive: true });
    mkdirSync(store, { recursive: true });
    // A helper as the docker CLI runs one: the action as argument, the server or the JSON on stdin.
    writeFileSync(
      join(bindir, 'docker-credential-berthtest'),
      `#!/bin/sh\nin=$(cat)\ncase "$1" in\n` +
        `store) key=$(printf '%s' "$in" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/' | tr ':/' '__'); printf '%s' "$in" > "${store}/$key" ;;\n` +
        `get) key=$(printf '%s' "$in" | tr ':/' '__'); [ -f "${store}/$key" ] || { echo "credentials not found in native keychain"; exit 1; }; cat "${store}/$key" ;;\n` +
        `erase) key=$(printf '%s' "$in" | tr ':/' '__'); rm -f "${store}/$key" ;;\nesac\n`,
      { mode: 0o755 },
    );
    const cfg = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8'));
    writeConfig({ ...cfg, credsStore: 'berthtest' });
    const withHelper = (root: string) => (args: string[], input?: string) => exec(bin, ['--root', root, '--runroot', join(root, 'run'), ...args], { input, env: { ...env, PATH: `${bindir}:${process.env.PATH}` } });
    try {
      const b = withHelper(roots[0]!);
      const ok = await b(['login', '-u', 'carol', '--password-stdin', reg.host], 'helperpw\n');
      assert.equal(ok.stdout, 'Login Succeeded\n', ok.stderr);
      assert.doesNotMatch(ok.stderr, /unencrypted/);
      const saved = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8'));
      assert.deepEqual(saved.auths[reg.host], {}, 'no secret in config.json');
      assert.deepEqual(JSON.parse(readFileSync(join(store, reg.host.replace(/:/g, '_')), 'utf8')), { ServerURL: reg.host, Username: 'carol', Secret: 'helperpw' });
      const ref = `${reg.host}/helped/bb:1`;
      await b(['tag', 'busybox', ref]);
      const p = await b(['push', ref]);
      assert.equal(p.status, 0, p.stderr);
      const r = join(dir, `root-${roots.length}`);
      roots.push(r);
      const pl = await withHelper(r)(['pull', ref]);
      assert.equal(pl.status, 0, pl.stderr);
      assert.equal((await b(['logout', reg.host])).status, 0);
      assert.equal(existsSync(join(store, reg.host.replace(/:/g, '_'))), false);
    } finally {
      writeConfig(cfg);
    }
  });

  it('follows the bearer token flow of a token server (RS256 JWTs), a token per scope', async () => {
    const key = join(dir, 'token.key');
    const cert = join(dir, 'token.crt');
    const o = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=berth-test-token'], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    const der = new X509Certificate(readFileSync(cert)).raw.toString('base64');
    const pkey = createPrivateKey(readFileSync(key));
    const b64 = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
    const asked: { scope: string[]; account: string | null; authorized: boolean }[] = [];
    const token = createServer((req: IncomingMessage, res: ServerResponse) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization;
      const good = auth === `Basic ${Buffer.from('bob:tokenpw').toString('base64')}`;
      asked.push({ scope: u.searchParams.getAll('scope'), account: u.searchParams.get('account'), authorized: good });
      if (auth !== undefined && !good) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      const access = good
        ? u.searchParams.getAll('scope').map((s) => {
            const [type, name, actions] = s.split(':');
            return { type, name, actions: actions!.split(',') };
          })
        : [];
      const now = Math.floor(Date.now() / 1000);
      const head = b64({ alg: 'RS256', typ: 'JWT', x5c: [der] });
      const claims = b64({ iss: 'berth-test-issuer', sub: good ? 'bob' : '', aud: 'berth-test-registry', exp: now + 600, nbf: now - 60, iat: now, jti: String(Math.random()), access });
      const sig = sign('sha256', Buffer.from(`${head}.${claims}`), pkey);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `${head}.${claims}.${b64(sig)}`, expires_in: 600, issued_at: new Date().toISOString() }));
    });
    servers.push(token);
    await new Promise<void>((r) => token.listen(0, '127.0.0.1', r));
    const tport = (token.address() as AddressInfo).port;
    const reg = await startRegistry(join(dir, 'token'), `auth:\n  token:\n    realm: http://127.0.0.1:${tport}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: ${cert}\n`);
    registries.push(reg);
    const ref = `${reg.host}/tok/bb:1`;
    await berth(['tag', 'busybox', ref]);
    const anon = await berth(['push', ref]);
    assert.notEqual(anon.status, 0);
    assert.equal(anon.stderr, 'Error response from daemon: unauthorized: authentication required\n');
    const anonPull = await fresh()(['pull', ref]);
    assert.equal(anonPull.stderr, `Error response from daemon: pull access denied for ${reg.host}/tok/bb, repository does not exist or may require 'docker login': unauthorized: authentication required\n`);
    const bad = await berth(['login', '-u', 'bob', '--password-stdin', reg.host], 'nope');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unauthorized: incorrect username or password/);
    assert.equal(JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')).auths?.[reg.host], undefined);
    const ok = await berth(['login', '-u', 'bob', '--password-stdin', reg.host], 'tokenpw');
    assert.equal(ok.stdout, 'Login Succeeded\n', ok.stderr);
    asked.length = 0;
    const p = await berth(['push', ref]);
    assert.equal(p.status, 0, p.stderr);
    // One push: one token for its scope, fetched once and used for every request after.
    const pushScopes = asked.filter((a) => a.scope.includes('repository:tok/bb:pull,push'));
    assert.equal(pushScopes.length, 1, JSON.stringify(asked));
    assert.equal(pushScopes[0]!.account, 'bob');
    assert.ok(pushScopes[0]!.authorized);
    const other = fresh();
    const pl = await other(['pull', ref]);
    assert.equal(pl.status, 0, pl.stderr);
    assert.ok(asked.some((a) => a.scope.includes('repository:tok/bb:pull')));
  });

  it('pulls docker.io names through a mirror (berth pull busybox), never from the registry itself', async () => {
    const mirror = await startRegistry(join(dir, 'mirror'));
    registries.push(mirror);
    assert.equal((await berth(['tag', 'busybox', `${mirror.host}/library/busybox:latest`])).status, 0);
    assert.equal((await berth(['push', `${mirror.host}/library/busybox:latest`])).status, 0);
    const cfg = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8'));
    writeConfig({ ...cfg, registries: { 'docker.io': { mirrors: [`http://127.0.0.1:1`, `http://${mirror.host}`], mirrorsOnly: true } } });
    const other = fresh();
    const pl = await other(['pull', 'busybox']);
    assert.equal(pl.status, 0, pl.stderr);
    assert.match(pl.stdout, /^Using default tag: latest\nlatest: Pulling from library\/busybox\n[^]*Status: Downloaded newer image for busybox:latest\ndocker\.io\/library\/busybox:latest\n$/);
    const run = await other(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'mirrored']);
    assert.equal(run.stdout, 'mirrored\n', run.stderr);
    writeConfig({ ...cfg, registries: { 'docker.io': { mirrorsOnly: true } } });
  });

  it('speaks TLS to a registry whose CA and client certificate are in certs.d/HOST:PORT, and pushes in PATCH chunks when asked', async () => {
    const t = join(dir, 'tls');
    mkdirSync(t, { recursive: true });
    const ssl = (...a: string[]) => {
      const r = spawnSync('openssl', a, { cwd: t, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=berth-test-ca');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(t, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '2', '-extfile', 'ext');
    // The registry also wants a client certificate of that CA (certs.d's client.cert and client.key).
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=berth-client');
    writeFileSync(join(t, 'cext'), 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.cert', '-days', '2', '-extfile', 'cext');
    const reg = await startRegistry(join(dir, 'tlsreg'), `  tls:\n    certificate: ${join(t, 'srv.crt')}\n    key: ${join(t, 'srv.key')}\n    clientcas:\n      - ${join(t, 'ca.crt')}\n`);
    registries.push(reg);
    const certs = join(config, 'certs.d', reg.host);
    mkdirSync(certs, { recursive: true });
    writeFileSync(join(certs, 'ca.crt'), readFileSync(join(t, 'ca.crt')));
    const noClient = await berth(['pull', `${reg.host}/secure/none:1`]);
    assert.notEqual(noClient.status, 0);
    assert.doesNotMatch(noClient.stderr, /manifest unknown/, 'refused without a client certificate');
    for (const f of ['client.cert', 'client.key']) writeFileSync(join(certs, f), readFileSync(join(t, f)));
    const cfg = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8'));
    writeConfig({ ...cfg, uploadChunkSize: 65536 });
    try {
      const ref = `${reg.host}/secure/bb:1`;
      await berth(['tag', 'busybox', ref]);
      const p = await berth(['push', ref]);
      assert.equal(p.status, 0, p.stderr);
      const other = fresh();
      const pl = await other(['pull', ref]);
      assert.equal(pl.status, 0, pl.stderr);
      const run = await other(['run', '--rm', '--network', 'none', ref, 'echo', 'over-tls']);
      assert.equal(run.stdout, 'over-tls\n', run.stderr);
      // The registry's own TLS listener, read by skopeo with the same CA.
      if (have('skopeo')) {
        const insp = await exec('skopeo', ['inspect', '--cert-dir', certs, `docker://${ref}`]);
        assert.equal(insp.status, 0, insp.stderr);
      }
    } finally {
      writeConfig(cfg);
    }
  });

  describe('against a fake registry', () => {
    let fakeHost = '';
    const blobs = new Map<string, Buffer>();
    const manifests = new Map<string, { type: string; bytes: Buffer }>();
    const hits: string[] = [];
    /** Per path: answers to give before the real one (429 with Retry-After, a dropped connection). */
    const faults = new Map<string, ('429' | 'drop')[]>();
    const dg = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

    async function layerTar(name: string, text: string): Promise<Buffer> {
      const pack = tar.pack();
      pack.entry({ name, mode: 0o644 }, text);
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    }

    /** An image of one layer: its manifest stored under `repo:tag` (and its digest); returns the manifest digest. */
    function addImage(repo: string, tag: string | undefined, layer: Buffer, o: { arch?: string; servedLayer?: Buffer } = {}): { digest: string; size: number; config: string } {
      const cfg = Buffer.from(JSON.stringify({ architecture: o.arch ?? 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [dg(layer)] } }));
      blobs.set(dg(cfg), cfg);
      blobs.set(dg(layer), o.servedLayer ?? layer);
      const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg(cfg), size: cfg.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: dg(layer), size: layer.length }] }));
      const entry = { type: 'application/vnd.oci.image.manifest.v1+json', bytes: man };
      manifests.set(`${repo}@${dg(man)}`, entry);
      if (tag) manifests.set(`${repo}:${tag}`, entry);
      return { digest: dg(man), size: man.length, config: dg(cfg) };
    }

    before(async () => {
      const fake = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0]!;
        hits.push(`${req.method} ${path}`);
        const f = faults.get(path)?.shift();
        if (f === '429') return void res.writeHead(429, { 'Retry-After': '0' }).end();
        if (path === '/v2/') return void res.writeHead(200).end('{}');
        const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
        if (!m) return void res.writeHead(404).end();
        const [, repo, kind, ref] = m;
        if (kind === 'manifests') {
          const e = manifests.get(ref!.includes(':') ? `${repo}@${ref}` : `${repo}:${ref}`);
          if (!e) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
          res.writeHead(200, { 'Content-Type': e.type, 'Content-Length': e.bytes.length, 'Docker-Content-Digest': dg(e.bytes) });
          return void res.end(req.method === 'HEAD' ? undefined : e.bytes);
        }
        const b = blobs.get(ref!);
        if (!b) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = range ? Number(range[1]) : 0;
        res.writeHead(range ? 206 : 200, { 'Content-Length': b.length - start, ...(range ? { 'Content-Range': `bytes ${start}-${b.length - 1}/${b.length}` } : {}) });
        if (req.method === 'HEAD') return void res.end();
        if (f === 'drop') {
          // Half the layer, then the connection goes.
          res.write(b.subarray(start, start + Math.floor((b.length - start) / 2)));
          return void setTimeout(() => res.socket?.destroy(), 50);
        }
        res.end(b.subarray(start));
      });
      servers.push(fake);
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      fakeHost = `127.0.0.1:${(fake.address() as AddressInfo).port}`;
    });

    it('refuses a layer whose bytes do not match its digest, and keeps none of it', async () => {
      const layer = await layerTar('good.txt', 'good\n');
      const evil = await layerTar('evil.txt', 'evil\n');
      assert.equal(evil.length, layer.length);
      addImage('bad/img', '1', layer, { servedLayer: evil });
      const other = fresh();
      assert.equal((await other(['images', '-q'])).stdout, '');
      const root = roots[roots.length - 1]!;
      const pl = await other(['pull', `${fakeHost}/bad/img:1`]);
      assert.notEqual(pl.status, 0);
      assert.match(pl.stderr, new RegExp(`blob ${dg(layer)}: content does not match its digest: got sha256:[0-9a-f]{64}`));
      assert.equal((await other(['images', '-q'])).stdout, '');
      const blobDir = join(root, 'content', 'blobs', 'sha256');
      const held = existsSync(blobDir) ? readdirSync(blobDir) : [];
      assert.ok(!held.includes(dg(layer).slice(7)), `the bad layer was kept: ${held.join(' ')}`);
    });

    it('retries a 429 (Retry-After), resumes a layer whose connection dropped, and checks the result', async () => {
      const layer = await layerTar('big.bin', 'x'.repeat(300_000));
      const img = addImage('flaky/img', '1', layer);
      faults.set('/v2/flaky/img/manifests/1', ['429']);
      faults.set(`/v2/flaky/img/blobs/${dg(layer)}`, ['drop']);
      const other = fresh();
      const pl = await other(['pull', `${fakeHost}/flaky/img:1`]);
      assert.equal(pl.status, 0, pl.stderr);
      assert.match(pl.stdout, new RegExp(`Digest: ${img.digest}\\n`));
      assert.equal(hits.filter((h) => h === 'GET /v2/flaky/img/manifests/1').length, 2);
      assert.equal(hits.filter((h) => h === `GET /v2/flaky/img/blobs/${dg(layer)}`).length, 2);
      const insp = JSON.parse((await other(['image', 'inspect', `${fakeHost}/flaky/img:1`])).stdout)[0];
      assert.equal(insp.Id, img.config);
    });

    it('chooses the platform from an index (the host\'s, or --platform), and refuses schema 1', async () => {
      const amd = addImage('multi/img', undefined, await layerTar('arch', 'amd64\n'), { arch: 'amd64' });
      const arm = addImage('multi/img', undefined, await layerTar('arch', 'arm64\n'), { arch: 'arm64' });
      const index = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }));
      manifests.set('multi/img:1', { type: 'application/vnd.oci.image.index.v1+json', bytes: index });
      const host = process.arch === 'arm64' ? arm : amd;
      const a = fresh();
      const pl = await a(['pull', `${fakeHost}/multi/img:1`]);
      assert.equal(pl.status, 0, pl.stderr);
      assert.match(pl.stdout, new RegExp(`Digest: ${dg(index)}\\n`));
      assert.equal(JSON.parse((await a(['image', 'inspect', `${fakeHost}/multi/img:1`])).stdout)[0].Id, host.config);
      const b = fresh();
      const p2 = await b(['pull', '--platform', 'linux/arm64', `${fakeHost}/multi/img:1`]);
      assert.equal(p2.status, 0, p2.stderr);
      assert.equal(JSON.parse((await b(['image', 'inspect', `${fakeHost}/multi/img:1`])).stdout)[0].Id, arm.config);
      const none = await b(['pull', '--platform', 'linux/s390x', `${fakeHost}/multi/img:1`]);
      assert.equal(none.stderr, 'Error response from daemon: no matching manifest for linux/s390x in the manifest list entries\n');
      manifests.set('old/img:1', { type: 'application/vnd.docker.distribution.manifest.v1+prettyjws', bytes: Buffer.from('{"schemaVersion":1,"name":"old/img","tag":"1","fsLayers":[]}') });
      const old = await b(['pull', `${fakeHost}/old/img:1`]);
      assert.match(old.stderr, /schema 1 is not supported/);
    });
  });
});
