// Loads a bundled berth CLI (dist/NAME.cjs) with a V8 code cache kept beside it, so that the
// bundle is not compiled again at every start. The cache is written at exit, after the code that
// ran was compiled, so it holds what that command needs: there is one per command (`run`, `ps`,
// ...), written by its first successful run, and rebuilt when the bundle changes (V8 rejects a
// stale cache).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const name = process.argv[2];
process.argv.splice(2, 1);
const file = path.join(__dirname, '..', 'dist', name + '.cjs');
// The command: the first plain word, after global flags and their values.
let command = 'none';
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith('-')) {
    if (a.startsWith('--') && !a.includes('=')) i++;
    continue;
  }
  if (/^[a-z][a-z0-9-]{0,31}$/.test(a)) command = a;
  break;
}
const cacheFile = `${file}.${command}.v8cache`;
// The bundle is ASCII (scripts/build.mjs checks): latin1 reads it without UTF-8 decoding.
const source = fs.readFileSync(file, 'latin1');
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// The bundle must not use import() of anything outside it (a Script has no module loader):
// scripts/build.mjs checks that.
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', (code) => {
    // A run that failed may have compiled little of the command's code: leave it to a good one.
    if (code !== 0) return;
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only installation runs without a cache
    }
  });
}
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, file, path.dirname(file));
