/**
 * Image manifests, indexes and configs (OCI and Docker schema 2): what parses, and that every
 * error names the document and the JSON path. Platforms: normalisation and matching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../lib/errors.js';
import { sha256 } from '../lib/digest.js';
import {
  defaultPlatform,
  documentKind,
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  formatPlatform,
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  isNonDistributable,
  MediaType,
  normalizePlatform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parsePlatform,
  platformMatches,
} from './image-spec.js';

const d1 = sha256('one');
const d2 = sha256('two');
const d3 = sha256('three');
const WHERE = `manifest ${d1}`;

function ociManifest(): any {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: d1, size: 123 },
    layers: [
      { mediaType: MediaType.ociLayerGzip, digest: d2, size: 1000 },
      { mediaType: MediaType.ociLayerZstd, digest: d3, size: 2000, annotations: { 'org.opencontainers.image.title': 'x' } },
      { mediaType: MediaType.ociLayer, digest: d1, size: 0 },
    ],
    annotations: { a: 'b' },
  };
}

/** A manifest as `docker push` writes it (schema 2). */
const DOCKER_MANIFEST = `{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "${d1}"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2220094,
         "digest": "${d2}"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 5,
         "digest": "${d3}",
         "urls": ["https://example.test/layer"]
      }
   ]
}`;

const DOCKER_LIST = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527, "digest": "${d1}",
      "platform": { "architecture": "amd64", "os": "linux" } },
    { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527, "digest": "${d2}",
      "platform": { "architecture": "arm", "os": "linux", "variant": "v6" } },
    { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527, "digest": "${d3}",
      "platform": { "architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1817", "os.features": ["win32k"] } }
  ]
}`;

/** A config as Docker writes it: nulls for unset lists and maps, extra fields. */
const DOCKER_CONFIG = `{
  "architecture": "amd64",
  "config": {
    "Hostname": "", "User": "", "AttachStdin": false,
    "ExposedPorts": {"80/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["sh"], "Entrypoint": null, "Volumes": null, "OnBuild": null, "Labels": null,
    "WorkingDir": "", "ArgsEscaped": true, "StopSignal": "SIGQUIT",
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000, "Retries": 3}
  },
  "container": "0123",
  "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD [\\"sh\\"]"]},
  "created": "2023-07-18T23:19:33.655005962Z",
  "docker_version": "20.10.23",
  "history": [
    {"created": "2023-07-18T23:19:33.538571854Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2023-07-18T23:19:33.655005962Z", "created_by": "/bin/sh -c #(nop)  CMD [\\"sh\\"]", "empty_layer": true}
  ],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": ["${d2}"]}
}`;

/** Parsing throws InvalidArgument whose message is exactly `${where}: ${rest}` (or matches it). */
function rejects(fn: () => unknown, where: string, rest: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), `expected InvalidArgument, got ${String(e)}`);
    const prefix = `${where}: `;
    assert.ok(e.message.startsWith(prefix), `${JSON.stringify(e.message)} should start with ${JSON.stringify(prefix)}`);
    const tail = e.message.slice(prefix.length);
    if (typeof rest === 'string') assert.equal(tail, rest);
    else assert.match(tail, rest);
    return true;
  });
}

function edit(base: () => any, f: (m: any) => void): string {
  const m = base();
  f(m);
  return JSON.stringify(m);
}

test('media types: manifests, indexes, configs, layers and their compression', () => {
  assert.ok(isManifestType(MediaType.ociManifest) && isManifestType(MediaType.dockerManifest));
  assert.ok(!isManifestType(MediaType.ociIndex) && !isManifestType(undefined) && !isManifestType('x'));
  assert.ok(isIndexType(MediaType.ociIndex) && isIndexType(MediaType.dockerManifestList));
  assert.ok(!isIndexType(MediaType.dockerManifest));
  assert.ok(isConfigType(MediaType.ociConfig) && isConfigType(MediaType.dockerConfig) && !isConfigType(MediaType.ociEmpty));
  const layers: [string, string][] = [
    [MediaType.ociLayer, 'none'],
    [MediaType.ociLayerGzip, 'gzip'],
    [MediaType.ociLayerZstd, 'zstd'],
    [MediaType.ociLayerNonDistributable, 'none'],
    [MediaType.ociLayerNonDistributableGzip, 'gzip'],
    [MediaType.ociLayerNonDistributableZstd, 'zstd'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
    ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
  ];
  for (const [mt, compression] of layers) assert.deepEqual(isLayerType(mt), { compression }, mt);
  for (const mt of [MediaType.ociConfig, MediaType.ociManifest, 'application/octet-stream', undefined]) assert.equal(isLayerType(mt), undefined);
  assert.ok(isNonDistributable(MediaType.dockerLayerForeignGzip) && isNonDistributable(MediaType.ociLayerNonDistributable));
  assert.ok(!isNonDistributable(MediaType.ociLayerGzip));
  assert.equal(sha256(EMPTY_JSON), EMPTY_JSON_DIGEST);
  assert.equal(MediaType.dockerManifest, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(MediaType.dockerManifestList, 'application/vnd.docker.distribution.manifest.list.v2+json');
  assert.equal(MediaType.dockerConfig, 'application/vnd.docker.container.image.v1+json');
});

test('parses OCI and Docker schema 2 manifests, from bytes or text', () => {
  const oci = ociManifest();
  assert.deepEqual(parseManifest(Buffer.from(JSON.stringify(oci)), WHERE), oci);
  const noType = ociManifest();
  delete noType.mediaType;
  assert.deepEqual(parseManifest(JSON.stringify(noType)), noType);

  const m = parseManifest(new Uint8Array(Buffer.from(DOCKER_MANIFEST)), WHERE);
  assert.equal(m.mediaType, MediaType.dockerManifest);
  assert.equal(m.config.size, 1457);
  assert.deepEqual(m.layers.map((l) => isLayerType(l.mediaType)?.compression), ['gzip', 'gzip']);
  assert.deepEqual(m.layers[1]!.urls, ['https://example.test/layer']);

  // An artifact: any config and layer media types, a subject, the empty descriptor.
  const art = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: 'application/vnd.example.sbom.v1',
    config: { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' },
    layers: [{ mediaType: 'application/spdx+json', digest: d2, size: 10 }],
    subject: { mediaType: MediaType.ociManifest, digest: d3, size: 500 },
  };
  assert.deepEqual(parseManifest(JSON.stringify(art), WHERE), art);
});

test('manifest errors name the document and the JSON path', () => {
  const cases: [string, string | RegExp][] = [
    ['{', /^not valid JSON: /],
    ['[]', 'must be an object, not an array'],
    [edit(ociManifest, (m) => (m.layers[2].digest = 'sha256:abc')), 'layers[2].digest: not a digest: the string "sha256:abc"'],
    [edit(ociManifest, (m) => (m.layers[0].size = -1)), 'layers[0].size: must be a non-negative integer, not the number -1'],
    [edit(ociManifest, (m) => (m.layers[1].size = '10')), 'layers[1].size: must be a non-negative integer, not the string "10"'],
    [edit(ociManifest, (m) => (m.layers[1].mediaType = 'not a type')), 'layers[1].mediaType: not a media type: "not a type"'],
    [edit(ociManifest, (m) => delete m.layers[0].mediaType), 'layers[0].mediaType: missing (must be a string)'],
    [edit(ociManifest, (m) => (m.layers[1].annotations = { k: 1 })), 'layers[1].annotations["k"]: must be a string, not the number 1'],
    [edit(ociManifest, (m) => (m.layers[0].urls = 'x')), 'layers[0].urls: must be an array, not the string "x"'],
    [edit(ociManifest, (m) => (m.layers[0].platform = { os: 'linux' })), 'layers[0].platform.architecture: missing (must be a string)'],
    [edit(ociManifest, (m) => (m.config.digest = 'md5:' + 'a'.repeat(32))), /^config\.digest: not a digest/],
    [edit(ociManifest, (m) => delete m.config), 'config: missing'],
    [edit(ociManifest, (m) => delete m.layers), 'layers: missing'],
    [edit(ociManifest, (m) => (m.layers = {})), 'layers: must be an array, not an object'],
    [edit(ociManifest, (m) => (m.schemaVersion = 1)), 'schemaVersion: must be 2, not the number 1'],
    [edit(ociManifest, (m) => delete m.schemaVersion), 'schemaVersion: missing (must be 2)'],
    [edit(ociManifest, (m) => (m.mediaType = 'x')), 'mediaType: unknown media type "x"'],
    [edit(ociManifest, (m) => (m.mediaType = 'application/vnd.example+json')), 'mediaType: unknown media type "application/vnd.example+json"'],
    [edit(ociManifest, (m) => (m.mediaType = MediaType.ociIndex)), `mediaType: media type "${MediaType.ociIndex}" is an image index, not a manifest`],
    [edit(ociManifest, (m) => (m.mediaType = MediaType.dockerSchema1SignedManifest)), /^mediaType: Docker schema 1 manifests are not supported/],
    [edit(ociManifest, (m) => (m.annotations = [])), 'annotations: must be an object, not an array'],
    [edit(ociManifest, (m) => (m.subject = { mediaType: MediaType.ociManifest, digest: d1 })), 'subject.size: missing (must be a non-negative integer)'],
    [edit(ociManifest, (m) => (m.config.data = '!!')), 'config.data: not base64'],
    [JSON.stringify({ schemaVersion: 2, manifests: [] }), 'an image index, not a manifest (it has "manifests" and no "config")'],
  ];
  for (const [text, rest] of cases) rejects(() => parseManifest(text, WHERE), WHERE, rest);
  // The default `where`.
  rejects(() => parseManifest('{}'), 'manifest', 'schemaVersion: missing (must be 2)');
});

test('parses indexes and Docker manifest lists', () => {
  const list = parseIndex(DOCKER_LIST, `index ${d3}`);
  assert.equal(list.manifests.length, 3);
  assert.deepEqual(list.manifests[1]!.platform, { architecture: 'arm', os: 'linux', variant: 'v6' });
  assert.deepEqual(list.manifests[2]!.platform!['os.features'], ['win32k']);

  const oci = {
    schemaVersion: 2,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: d1, size: 10, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: MediaType.ociManifest, digest: d2, size: 10, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
      { mediaType: MediaType.ociIndex, digest: d3, size: 10 },
    ],
  };
  assert.deepEqual(parseIndex(JSON.stringify(oci)), oci);
  assert.deepEqual(parseIndex(JSON.stringify({ ...oci, mediaType: MediaType.ociIndex })).mediaType, MediaType.ociIndex);
  assert.equal(documentKind(DOCKER_LIST), 'index');
  assert.equal(documentKind(JSON.stringify(oci)), 'index');
  assert.equal(documentKind(DOCKER_MANIFEST), 'manifest');
  assert.equal(documentKind(JSON.stringify({ ...ociManifest(), mediaType: undefined })), 'manifest');
  rejects(() => documentKind(JSON.stringify({ mediaType: 'text/plain' }), 'm'), 'm', 'mediaType: unknown media type "text/plain"');
});

test('index errors name the document and the JSON path', () => {
  const W = `index ${d3}`;
  const base = () => JSON.parse(DOCKER_LIST);
  const cases: [string, string | RegExp][] = [
    [edit(base, (x) => (x.manifests[1].platform.os = 7)), 'manifests[1].platform.os: must be a string, not the number 7'],
    [edit(base, (x) => (x.manifests[2].platform['os.features'] = [1])), 'manifests[2].platform["os.features"][0]: must be a string, not the number 1'],
    [edit(base, (x) => (x.manifests[0].digest = 'sha256:' + 'A'.repeat(64))), /^manifests\[0\]\.digest: not a digest/],
    [edit(base, (x) => delete x.manifests), 'manifests: missing'],
    [edit(base, (x) => (x.mediaType = MediaType.dockerManifest)), `mediaType: media type "${MediaType.dockerManifest}" is an image manifest, not an index`],
    [edit(base, (x) => (x.mediaType = 'application/vnd.oci.image.index.v2+json')), 'mediaType: unknown media type "application/vnd.oci.image.index.v2+json"'],
    [edit(base, (x) => (x.schemaVersion = '2')), 'schemaVersion: must be 2, not the string "2"'],
    [JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }), 'an image manifest, not an index (it has "config" and no "manifests")'],
    ['null', 'must be an object, not null'],
  ];
  for (const [text, rest] of cases) rejects(() => parseIndex(text, W), W, rest);
});

test('parses Docker and OCI image configs, dropping Docker nulls', () => {
  const c = parseImageConfig(DOCKER_CONFIG, `image config ${d1}`);
  assert.equal(c.architecture, 'amd64');
  assert.equal(c.os, 'linux');
  assert.deepEqual(c.rootfs, { type: 'layers', diff_ids: [d2] });
  assert.deepEqual(c.config?.Cmd, ['sh']);
  assert.ok(!('Entrypoint' in c.config!) && !('Volumes' in c.config!) && !('Labels' in c.config!) && !('OnBuild' in c.config!));
  assert.deepEqual(c.config?.ExposedPorts, { '80/tcp': {} });
  assert.equal(c.config?.Healthcheck?.Retries, 3);
  assert.equal(c.history?.[1]?.empty_layer, true);
  assert.equal((c as any).docker_version, '20.10.23', 'unknown fields are kept');

  const oci = {
    created: '2024-01-01T00:00:00Z',
    author: 'me',
    architecture: 'arm64',
    variant: 'v8',
    os: 'linux',
    config: { User: '1000:1000', Entrypoint: ['/app'], Cmd: ['--help'], WorkingDir: '/srv', Labels: { a: 'b' }, Volumes: { '/data': {} }, StopSignal: 'SIGTERM', Shell: ['/bin/sh', '-c'], OnBuild: [] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created_by: 'x', comment: 'y', author: 'z' }],
  };
  assert.deepEqual(parseImageConfig(JSON.stringify(oci)), oci);
  // A config without "config" (scratch images built by some tools).
  assert.deepEqual(parseImageConfig(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [d1] } })).config, undefined);
});

test('config errors name the document and the JSON path', () => {
  const W = `image config ${d1}`;
  const base = () => JSON.parse(DOCKER_CONFIG);
  const cases: [string, string | RegExp][] = [
    [edit(base, (c) => (c.rootfs.diff_ids[0] = 'nope')), 'rootfs.diff_ids[0]: not a digest: the string "nope"'],
    [edit(base, (c) => (c.rootfs.type = 'layer')), 'rootfs.type: must be "layers", not the string "layer"'],
    [edit(base, (c) => delete c.rootfs), 'rootfs: missing'],
    [edit(base, (c) => delete c.rootfs.diff_ids), 'rootfs.diff_ids: missing'],
    [edit(base, (c) => delete c.architecture), 'architecture: missing (must be a string)'],
    [edit(base, (c) => (c.os = null)), 'os: must be a string, not null'],
    [edit(base, (c) => (c.config.Env = 'A=B')), 'config.Env: must be an array, not the string "A=B"'],
    [edit(base, (c) => (c.config.Cmd = ['sh', 1])), 'config.Cmd[1]: must be a string, not the number 1'],
    [edit(base, (c) => (c.config.ExposedPorts = { '80/tcp': true })), 'config.ExposedPorts["80/tcp"]: must be an object, not true'],
    [edit(base, (c) => (c.config.Labels = { a: 1 })), 'config.Labels["a"]: must be a string, not the number 1'],
    [edit(base, (c) => (c.config.ArgsEscaped = 'yes')), 'config.ArgsEscaped: must be a boolean, not the string "yes"'],
    [edit(base, (c) => (c.config.Healthcheck.Interval = 1.5)), 'config.Healthcheck.Interval: must be an integer, not the number 1.5'],
    [edit(base, (c) => (c.history[1].empty_layer = 'true')), 'history[1].empty_layer: must be a boolean, not the string "true"'],
    [edit(base, (c) => (c.history = {})), 'history: must be an array, not an object'],
    [edit(base, (c) => (c.config = 'x')), 'config: must be an object, not the string "x"'],
  ];
  for (const [text, rest] of cases) rejects(() => parseImageConfig(text, W), W, rest);
});

test('platforms: normalisation, matching, the default, --platform strings', () => {
  assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'i386' }), { os: 'linux', architecture: '386' });

  const amd64 = { os: 'linux', architecture: 'amd64' };
  assert.ok(platformMatches(amd64, amd64));
  assert.ok(platformMatches({ os: 'linux', architecture: 'x86_64' }, amd64));
  assert.ok(!platformMatches({ os: 'windows', architecture: 'amd64' }, amd64));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm64' }, amd64));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64', variant: 'v3' }, amd64));
  assert.ok(platformMatches(amd64, { ...amd64, variant: 'v3' }));
  assert.ok(platformMatches({ ...amd64, variant: 'v2' }, { ...amd64, variant: 'v3' }));
  const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, arm64));
  assert.ok(platformMatches(arm64, { os: 'linux', architecture: 'arm64' }));
  const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, armv7), 'arm/v7 runs v6');
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm' }, armv7));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }), 'arm/v6 does not run v7');

  // The list above, as a puller would pick from it.
  const list = parseIndex(DOCKER_LIST);
  const pick = (want: any) => list.manifests.filter((m) => m.platform && platformMatches(m.platform, want)).map((m) => m.digest);
  assert.deepEqual(pick(amd64), [d1]);
  assert.deepEqual(pick(armv7), [d2]);
  assert.deepEqual(pick({ os: 'windows', architecture: 'amd64' }), [d3]);
  assert.deepEqual(pick(arm64), []);

  assert.deepEqual(defaultPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(defaultPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(defaultPlatform('arm', 6), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(defaultPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.deepEqual(defaultPlatform('s390x'), { os: 'linux', architecture: 's390x' });
  assert.deepEqual(defaultPlatform('riscv64'), { os: 'linux', architecture: 'riscv64' });
  assert.equal(defaultPlatform().os, 'linux');
  assert.ok(platformMatches(defaultPlatform(), defaultPlatform()));

  assert.deepEqual(parsePlatform('linux/amd64'), amd64);
  assert.deepEqual(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64');
  assert.equal(formatPlatform(armv7), 'linux/arm/v7');
  for (const bad of ['linux', 'linux/', 'a/b/c/d', 'linux/amd 64']) {
    assert.throws(() => parsePlatform(bad), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message.startsWith(`platform ${JSON.stringify(bad)}: `));
  }
});
