/**
 * Loads meter model files from the package's meter-registry folder and any user
 * folders. A broken file is reported and skipped; the rest load. A model from a
 * later folder replaces one with the same id from an earlier folder (user
 * folders come after the package folder), and the replacement is listed in
 * `overrides` so the log and the editor can show it.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { PointDef } from '../modbus/types';
import { formatPath } from './fields';
import { SLUG } from './naming';
import type { ManufacturerSummary, MeterModel, ModelDefaults, ProfileDerivedPoint, RegistryError, RegistryOverride } from './types';
import { checkModelDocument, resolveDerived, resolveProfile } from './validate';
import { parseYamlWithPositions, YamlSyntaxError } from './yaml-positions';
import { hasOwn } from '../own';

export class MeterRegistry {
  readonly models = new Map<string, MeterModel>();
  readonly errors: RegistryError[] = [];
  readonly overrides: RegistryOverride[] = [];

  constructor(readonly dirs: readonly string[], readonly packageDir?: string) {}

  getModel(id: string): MeterModel | undefined {
    return this.models.get(id);
  }

  /** Like getModel, but an unknown id is an error that lists the known ones. */
  requireModel(id: string): MeterModel {
    const model = this.models.get(id);
    if (!model) {
      const known = [...this.models.keys()].sort().join(', ') || 'none loaded';
      throw new Error(`meter model "${id}" is not in the registry; known models: ${known}`);
    }
    return model;
  }

  /** The points of a profile, base profiles first, as fresh objects the caller may keep. */
  profilePoints(modelId: string, profile: string): PointDef[] {
    const model = this.requireModel(modelId);
    if (!hasOwn(model.profiles, profile)) {
      throw new Error(`meter model "${modelId}" has no profile "${profile}"; known profiles: ${Object.keys(model.profiles).join(', ')}`);
    }
    const byName = new Map(model.points.map((p) => [p.name, p]));
    return resolveProfile(model.profiles, profile).map((name) => ({ ...(byName.get(name) as PointDef) }));
  }

  /** Derived points a profile declares (with those of the profiles it extends), for rtu-derive. */
  profileDerived(modelId: string, profile: string): ProfileDerivedPoint[] {
    const model = this.requireModel(modelId);
    if (!Object.prototype.hasOwnProperty.call(model.profiles, profile)) return [];
    return resolveDerived(model.profiles, profile).map((d) => ({ ...d }));
  }

  modelDefaults(modelId: string): ModelDefaults {
    const m = this.requireModel(modelId);
    return {
      protocols: [...m.protocols],
      serial: m.serial ? { ...m.serial } : undefined,
      tcpPort: m.tcpPort,
      unitId: m.unitId,
      byteOrder: m.byteOrder,
      plan: {
        maxRegisters: m.maxRegisters,
        neverRead: m.neverRead.map(({ registerType, address, quantity }) => ({ registerType, address, quantity })),
      },
    };
  }

  /** Manufacturer -> model -> profiles, sorted, for the editor's pickers. */
  listModels(): ManufacturerSummary[] {
    const byMaker = new Map<string, ManufacturerSummary>();
    for (const m of this.models.values()) {
      let entry = byMaker.get(m.manufacturer);
      if (!entry) byMaker.set(m.manufacturer, (entry = { manufacturer: m.manufacturer, models: [] }));
      entry.models.push({
        id: m.id,
        model: m.model,
        aliases: [...m.aliases],
        protocols: [...m.protocols],
        profiles: Object.values(m.profiles).map((p) => ({
          name: p.name,
          description: p.description,
          points: resolveProfile(m.profiles, p.name).length,
        })),
        user: this.packageDir === undefined || path.resolve(m.dir) !== path.resolve(this.packageDir),
      });
    }
    const list = [...byMaker.values()].sort((a, b) => a.manufacturer.localeCompare(b.manufacturer));
    for (const entry of list) entry.models.sort((a, b) => a.model.localeCompare(b.model));
    return list;
  }
}

export interface LoadOptions {
  /** The package's own folder; models from other folders count as user models. */
  packageDir?: string;
}

/** Loads every `<manufacturer>/<model>.yaml` under each folder, later folders overriding earlier ones. */
export function loadRegistry(dirs: readonly string[], options: LoadOptions = {}): MeterRegistry {
  const registry = new MeterRegistry(dirs, options.packageDir);
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      registry.errors.push(makeError(dir, undefined, '', 'registry folder does not exist'));
      continue;
    }
    const seenHere = new Map<string, string>();
    for (const file of modelFiles(dir)) {
      const result = loadModelFile(dir, file);
      if ('errors' in result) {
        registry.errors.push(...result.errors);
        continue;
      }
      const model = result.model;
      const twin = seenHere.get(model.id);
      if (twin) {
        registry.errors.push(makeError(file, 1, '', `model id "${model.id}" is already defined by ${display(twin)} in the same folder; this file is skipped`));
        continue;
      }
      seenHere.set(model.id, file);
      const earlier = registry.models.get(model.id);
      if (earlier) registry.overrides.push({ id: model.id, file, replaced: earlier.file });
      registry.models.set(model.id, model);
    }
  }
  return registry;
}

/** Loads and checks one model file; `dir` is the registry folder the id is taken relative to. */
export function loadModelFile(dir: string, file: string): { model: MeterModel } | { errors: RegistryError[] } {
  const relative = path.relative(dir, file).split(path.sep);
  const idParts = relative.map((part, i) => (i === relative.length - 1 ? part.replace(/\.ya?ml$/, '') : part));
  if (idParts.length !== 2 || !idParts.every((p) => SLUG.test(p))) {
    return { errors: [makeError(file, undefined, '', `expected the file at <manufacturer-slug>/<model-slug>.yaml with lower-case slugs (a-z, 0-9, -), found ${relative.join('/')}`)] };
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { errors: [makeError(file, undefined, '', `cannot read: ${(err as Error).message}`)] };
  }
  let doc;
  try {
    doc = parseYamlWithPositions(text);
  } catch (err) {
    if (err instanceof YamlSyntaxError) return { errors: [makeError(file, err.line, '', `YAML syntax: ${err.message}`)] };
    throw err;
  }
  const checked = checkModelDocument(doc.value);
  if (!checked.model) {
    return { errors: checked.issues.map((i) => makeError(file, doc.lineOf(i.path), formatPath(i.path), i.message)) };
  }
  return { model: { ...checked.model, id: idParts.join('/'), file, dir } };
}

function modelFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory() && depth < 3 && !entry.name.startsWith('.') && entry.name !== 'node_modules') walk(p, depth + 1);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

function makeError(file: string, line: number | undefined, field: string, message: string): RegistryError {
  const where = line === undefined ? display(file) : `${display(file)}:${line}`;
  return { file, line, field, message, text: `${where}: ${field ? `${field}: ` : ''}${message}` };
}

/** Paths under the working directory are shown relative to it, others in full. */
function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}
