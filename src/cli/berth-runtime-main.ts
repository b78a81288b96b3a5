/** Entry of the `berth-runtime` binary. */
import { runtimeMain } from './runtime-cli.js';

runtimeMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
