// Builds berth: the C helper (native/out/berth-helper) and the bundled CLIs (dist/*.cjs).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('make', ['-s', '-C', join(root, 'native')], { stdio: 'inherit' });

// Code caches of the previous bundles (bin/launch.cjs writes one per command) would be rejected.
import { readdirSync as listDir, rmSync } from 'node:fs';
try {
  for (const f of listDir(join(root, 'dist'))) if (f.endsWith('.v8cache')) rmSync(join(root, 'dist', f), { force: true });
} catch {
  /* no dist yet */
}
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: {
    berth: join(root, 'src/cli/main.ts'),
    'berth-runtime': join(root, 'src/cli/berth-runtime-main.ts'),
    // The DNS server of user-defined networks, run detached (one per network).
    'berth-dns': join(root, 'src/network/dns-main.ts'),
    // The userland port proxy, where DNAT cannot work (one per container with published ports).
    'berth-proxy': join(root, 'src/network/proxy-main.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  legalComments: 'none',
  // Smaller to read and compile at every start (the source map keeps stack traces readable);
  // ASCII only, so that bin/launch.cjs reads it as latin1, without UTF-8 decoding.
  minify: true,
  charset: 'ascii',
  logLevel: 'warning',
  // import.meta.url is only read where __dirname is missing (ESM); silence the CJS warning.
  logOverride: { 'empty-import-meta': 'silent' },
});

// bin/launch.cjs runs the bundles as vm.Scripts, which cannot import() modules: check none is left.
import { readFileSync } from 'node:fs';
for (const name of ['berth', 'berth-runtime']) {
  const text = readFileSync(join(root, 'dist', `${name}.cjs`), 'utf8');
  if (/[^\x00-\x7f]/.test(text)) {
    console.error(`build: dist/${name}.cjs is not ASCII (bin/launch.cjs reads it as latin1)`);
    process.exit(1);
  }
  const m = /\bimport\((["'])(node:[^"']+|[^."'][^"']*)\1\)/.exec(text);
  if (m) {
    console.error(`build: dist/${name}.cjs has import(${m[1]}${m[2]}${m[1]}): use a static import in the source`);
    process.exit(1);
  }
}
