/** What every berth command gets: the global flags, and the engine made from them on first use. */
import type { Engine, EngineOptions } from '../engine/index.js';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
}

/** The engine's options: the flags, else BERTH_ROOT, BERTH_RUNROOT, BERTH_STORAGE_DRIVER; the registry config in BERTH_CONFIG (else ~/.config/berth). */
export function engineOptions(g: GlobalOptions): EngineOptions {
  const env = process.env;
  return { root: g.root ?? env.BERTH_ROOT, runroot: g.runroot ?? env.BERTH_RUNROOT, storageDriver: g.storageDriver ?? env.BERTH_STORAGE_DRIVER, ...(env.BERTH_CONFIG ? { configDir: env.BERTH_CONFIG } : {}) };
}

const engines = new WeakMap<GlobalOptions, Engine>();

/** The command's engine (one per command: made once for these flags). */
export async function engine(g: GlobalOptions): Promise<Engine> {
  let e = engines.get(g);
  if (!e) {
    const { createEngine } = await import('../engine/index.js');
    e = createEngine(engineOptions(g));
    engines.set(g, e);
  }
  return e;
}
