/**
 * Serves the meter registry to the editor through Node-RED's admin API, so the
 * poller and decoder forms can offer manufacturer -> model -> profile pickers
 * and show the points of a profile. Node files call `serveRegistry(RED, ...)`
 * from their registration function; the routes are added once per runtime.
 *
 *   GET  /rtu/registry/models                                   manufacturers, models, profiles, load errors
 *   GET  /rtu/registry/models/:maker/:model                     one model with its defaults and profiles
 *   GET  /rtu/registry/models/:maker/:model/profiles/:profile   the points of one profile
 *   POST /rtu/registry/reload                                   read the folders again
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Express, Request, RequestHandler, Response } from 'express';
import { sharedRegistry } from '../lib/registry';
import type { MeterRegistry } from '../lib/registry';

/** The part of Node-RED's RED object this helper uses. */
export interface RegistryHost {
  httpAdmin: Pick<Express, 'get' | 'post'>;
  auth: { needsPermission(permission: string): RequestHandler };
  settings?: { userDir?: string; rtuMeterRegistryDirs?: unknown } | object;
  log?: { warn(msg: string): void };
}

export type RegistrySource = MeterRegistry | ((reload?: boolean) => MeterRegistry);

const served = new WeakSet<object>();

export function serveRegistry(RED: RegistryHost, registry: RegistrySource): void {
  if (served.has(RED.httpAdmin)) return;
  served.add(RED.httpAdmin);
  let current = typeof registry === 'function' ? registry(false) : registry;
  const read = RED.auth.needsPermission('rtu-registry.read');
  const write = RED.auth.needsPermission('rtu-registry.write');
  reportLoad(RED, current);

  RED.httpAdmin.get('/rtu/registry/models', read, (_req: Request, res: Response) => {
    res.json({
      manufacturers: current.listModels(),
      errors: current.errors.map((e) => e.text),
      overrides: current.overrides,
    });
  });

  RED.httpAdmin.get('/rtu/registry/models/:maker/:model', read, (req: Request, res: Response) => {
    const id = modelId(req);
    const model = current.getModel(id);
    if (!model) return void res.status(404).json({ error: `meter model "${id}" is not in the registry` });
    const profiles = Object.fromEntries(
      Object.values(model.profiles).map((p) => [p.name, { description: p.description, points: current.profilePoints(model.id, p.name) }]),
    );
    const { file: _file, dir: _dir, points: _points, profiles: _profiles, ...facts } = model;
    res.json({ ...facts, defaults: current.modelDefaults(model.id), profiles });
  });

  RED.httpAdmin.get('/rtu/registry/models/:maker/:model/profiles/:profile', read, (req: Request, res: Response) => {
    try {
      res.json({ points: current.profilePoints(modelId(req), String(req.params.profile)) });
    } catch (err) {
      res.status(404).json({ error: (err as Error).message });
    }
  });

  RED.httpAdmin.post('/rtu/registry/reload', write, (_req: Request, res: Response) => {
    if (typeof registry === 'function') current = registry(true);
    reportLoad(RED, current);
    res.json({ models: current.models.size, errors: current.errors.map((e) => e.text) });
  });
}

/**
 * The registry for a runtime: the package folder, then `<userDir>/meter-registry` if it
 * exists, then the folders in the `rtuMeterRegistryDirs` setting (relative paths are
 * taken from the user directory). Later folders override earlier ones.
 */
export function registryFromSettings(RED: Pick<RegistryHost, 'settings'>): (reload?: boolean) => MeterRegistry {
  const settings = (RED.settings ?? {}) as { userDir?: string; rtuMeterRegistryDirs?: unknown };
  const userDir = settings.userDir;
  const configured = settings.rtuMeterRegistryDirs;
  const list = Array.isArray(configured) ? configured : typeof configured === 'string' ? [configured] : [];
  const dirs: string[] = [];
  if (userDir && fs.existsSync(path.join(userDir, 'meter-registry'))) dirs.push(path.join(userDir, 'meter-registry'));
  for (const d of list) {
    if (typeof d === 'string' && d.trim()) dirs.push(path.resolve(userDir ?? process.cwd(), d));
  }
  return (reload = false) => sharedRegistry(dirs, reload);
}

function modelId(req: Request): string {
  return `${String(req.params.maker)}/${String(req.params.model)}`;
}

function reportLoad(RED: RegistryHost, registry: MeterRegistry): void {
  if (!RED.log) return;
  for (const e of registry.errors) RED.log.warn(`meter registry: ${e.text}`);
  for (const o of registry.overrides) RED.log.warn(`meter registry: ${o.file} replaces model ${o.id} from ${o.replaced}`);
}
