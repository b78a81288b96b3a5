import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseChallenges } from './auth.js';
import { ClientConfig } from './config.js';
import { Http, retryAfterMs } from './http.js';
import { DOCKER_IO_REGISTRY, Registries, registryErrorText } from './client.js';
import { choosePlatform } from './transport.js';

describe('registry client pieces', () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const s of servers) s.close();
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-regunit-'));
    dirs.push(d);
    return d;
  };

  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenges('Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'reg', scope: 'repository:a/b:pull,push' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="test"'), [{ scheme: 'basic', params: { realm: 'test' } }]);
    assert.deepEqual(parseChallenges(['Basic realm=x, Bearer realm="y"']), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'y' } },
    ]);
    assert.deepEqual(parseChallenges(undefined), []);
  });

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });

  it("writes registry errors as Docker's errcode does", () => {
    assert.equal(registryErrorText('MANIFEST_UNKNOWN', 'manifest unknown'), 'manifest unknown: manifest unknown');
    assert.equal(registryErrorText('NAME_UNKNOWN', 'repository name not known to registry'), 'name unknown: repository name not known to registry');
  });

  it('chooses the platform of an index: exact variant first, then a compatible one', () => {
    const index = {
      manifests: [
        { digest: 'sha256:v6', mediaType: 'm', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
        { digest: 'sha256:v7', mediaType: 'm', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { digest: 'sha256:amd', mediaType: 'm', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:arm64', mediaType: 'm', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    };
    assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, 'sha256:v7');
    assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, 'sha256:v6');
    assert.equal(choosePlatform(index, { os: 'linux', architecture: 'x86_64' })?.digest, 'sha256:amd');
    assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm64' })?.digest, 'sha256:arm64');
    assert.equal(choosePlatform(index, { os: 'linux', architecture: 's390x' }), undefined);
  });

  it("reads credentials from Docker's config.json and saves new ones", () => {
    const d = tmp();
    writeFileSync(join(d, 'config.json'), JSON.stringify({ auths: { 'r.test:5000': { auth: Buffer.from('u:p:w').toString('base64') } }, registries: { 'docker.io': { mirrors: ['http://127.0.0.1:5000/'] } } }));
    const c = new ClientConfig(d);
    assert.deepEqual(c.credentials('r.test:5000'), { username: 'u', password: 'p:w' });
    assert.equal(c.credentials('other'), undefined);
    c.store('other', { username: 'a', password: 'b' });
    assert.deepEqual(new ClientConfig(d).credentials('other'), { username: 'a', password: 'b' });
    assert.equal(c.erase('other'), true);
    assert.equal(new ClientConfig(d).credentials('other'), undefined);
    const regs = new Registries({ config: c });
    assert.deepEqual(regs.pullEndpoints('docker.io').map((e) => e.base), ['http://127.0.0.1:5000', `https://${DOCKER_IO_REGISTRY}`]);
    assert.equal(regs.origin('127.0.0.1:5000').base, 'http://127.0.0.1:5000');
    assert.equal(regs.origin('localhost:5000').base, 'http://localhost:5000');
    assert.equal(regs.origin('r.test:5000').base, 'https://r.test:5000');
  });

  it('drops Authorization on a redirect to another host, keeps it on the same one', async () => {
    const seen: (string | undefined)[] = [];
    const listen = async (h: (path: string, auth: string | undefined, res: import('node:http').ServerResponse) => void) => {
      const s = createServer((req, res) => h(req.url ?? '', req.headers.authorization, res));
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as AddressInfo).port;
    };
    const storage = await listen((_p, auth, res) => {
      seen.push(auth);
      res.end('blob');
    });
    const reg = await listen((p, auth, res) => {
      seen.push(auth);
      if (p === '/same') return void res.writeHead(307, { Location: '/final' }).end();
      if (p === '/final') return void res.end('same');
      // "localhost" is another host than "127.0.0.1" to the client, though the same address.
      res.writeHead(307, { Location: `http://localhost:${storage}/blob` }).end();
    });
    const http = new Http({ attempts: 1 });
    const r1 = await http.send({ method: 'GET', url: `http://127.0.0.1:${reg}/away`, headers: { Authorization: 'Bearer t' } });
    r1.body.resume();
    assert.equal(r1.status, 200);
    assert.deepEqual(seen, ['Bearer t', undefined]);
    seen.length = 0;
    const r2 = await http.send({ method: 'GET', url: `http://127.0.0.1:${reg}/same`, headers: { Authorization: 'Bearer t' } });
    r2.body.resume();
    assert.deepEqual(seen, ['Bearer t', 'Bearer t']);
  });

  it('retries a 503 and honours Retry-After', async () => {
    let n = 0;
    const s = createServer((_req, res) => {
      if (n++ === 0) return void res.writeHead(503, { 'Retry-After': '0' }).end();
      res.end('ok');
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const http = new Http({ attempts: 3, backoffMs: 1 });
    const r = await http.send({ method: 'GET', url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/` });
    r.body.resume();
    assert.equal(r.status, 200);
    assert.equal(n, 2);
  });
});
