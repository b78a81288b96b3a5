// `npm run bench -- NAME`: compiles (tsc → build/) and runs bench/NAME.ts side by side with the
// reference tools. Names: the files in bench/ (runtime, images, containers, network, build, snapshot).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const names = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts') && f !== 'common.ts').map((f) => f.slice(0, -3));
const wanted = process.argv.slice(2);
if (wanted.length === 0 || wanted.some((w) => !names.includes(w))) {
  console.error(`usage: npm run bench -- ${names.join('|')}`);
  process.exit(2);
}
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
for (const w of wanted) {
  const file = join(root, 'build', 'bench', `${w}.js`);
  if (!existsSync(file)) throw new Error(`missing ${file}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
