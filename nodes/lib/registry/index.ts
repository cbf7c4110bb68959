/** The meter registry: model files in, checked models and profile point lists out. */
import * as fs from 'fs';
import * as path from 'path';
import { loadRegistry, MeterRegistry } from './registry';

export { loadRegistry, loadModelFile, MeterRegistry } from './registry';
export type { LoadOptions } from './registry';
export { checkModelDocument, resolveProfile, DATA_TYPES, REGISTER_COUNT } from './validate';
export { CANONICAL_UNITS } from './naming';
export { fromDocumentNumber, toProtocolAddress } from './addressing';
export * from './types';

/** The package's own meter-registry folder, found by walking up from this file (src or dist). */
export function packageRegistryDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'meter-registry');
    if (fs.existsSync(path.join(candidate, 'schema.json'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`meter-registry folder not found above ${__dirname}`);
}

/** Loads the package folder first, then the user folders, which may override package models. */
export function loadDefaultRegistry(userDirs: readonly string[] = []): MeterRegistry {
  const packageDir = packageRegistryDir();
  return loadRegistry([packageDir, ...userDirs], { packageDir });
}

const shared = new Map<string, MeterRegistry>();

/**
 * One registry per list of user folders, shared by every node in the process so a
 * flow with many pollers parses the files once. `reload` reads the folders again.
 */
export function sharedRegistry(userDirs: readonly string[] = [], reload = false): MeterRegistry {
  const key = JSON.stringify(userDirs.map((d) => path.resolve(d)));
  let registry = shared.get(key);
  if (!registry || reload) {
    registry = loadDefaultRegistry(userDirs);
    shared.set(key, registry);
  }
  return registry;
}
