// Builds berth: the C helper (native/out/berth-helper) and the bundled CLIs (dist/*.cjs).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('make', ['-s', '-C', join(root, 'native')], { stdio: 'inherit' });

const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: {
    berth: join(root, 'src/cli/main.ts'),
    'berth-runtime': join(root, 'src/cli/berth-runtime-main.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // import.meta.url is only read where __dirname is missing (ESM); silence the CJS warning.
  logOverride: { 'empty-import-meta': 'silent' },
});
