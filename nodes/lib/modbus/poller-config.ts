/**
 * Resolves a Modbus poller's editor fields into what the engine needs: the
 * device's points (from a registry model + profile, or a typed point list) and
 * the plan options. Used by the rtu-modbus-poller node and its editor's plan preview.
 */
import type { MeterRegistry } from '../registry';
import { planReads, PlanError, PlanOptions, ReadPlan } from './planner';
import { validatePoints } from './points';
import { parseRanges } from './ranges';
import { BYTE_ORDERS, ByteOrder, PointDef } from './types';

export interface PollerFields {
  name?: string;
  source?: string;
  model?: string;
  profile?: string;
  points?: unknown;
  maxGap?: string | number;
  maxRegisters?: string | number;
  neverRead?: string;
  byteOrder?: string;
}

export interface ResolvedDevice {
  points: PointDef[];
  plan: ReadPlan;
  planOptions: PlanOptions;
  model?: string;
  profile?: string;
}

export class DeviceConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'DeviceConfigError';
  }
}

function optionalNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return Number(value);
}

export function resolveDevice(fields: PollerFields, registry: () => MeterRegistry, context: string): ResolvedDevice {
  const problems: string[] = [];
  let points: PointDef[] = [];
  const planOptions: PlanOptions = {};
  let model: string | undefined;
  let profile: string | undefined;

  if ((fields.source || 'model') === 'model') {
    model = String(fields.model || '');
    profile = String(fields.profile || '');
    if (!model) throw new DeviceConfigError([`${context}: no meter model chosen`]);
    try {
      const reg = registry();
      points = reg.profilePoints(model, profile);
      const defaults = reg.modelDefaults(model);
      const order = fields.byteOrder && BYTE_ORDERS.includes(fields.byteOrder as ByteOrder) ? (fields.byteOrder as ByteOrder) : undefined;
      // A byte order chosen in the dialog overrides the model's for every multi-word point.
      if (order) points = points.map((p) => ({ ...p, order }));
      if (defaults.plan.maxRegisters) planOptions.maxRegisters = defaults.plan.maxRegisters;
      planOptions.neverRead = [...defaults.plan.neverRead];
    } catch (err) {
      throw new DeviceConfigError([`${context}: ${(err as Error).message}`]);
    }
  } else {
    const checked = validatePoints(Array.isArray(fields.points) ? fields.points : [], context);
    problems.push(...checked.errors);
    points = checked.points;
    if (!points.length && !checked.errors.length) problems.push(`${context}: the point list is empty`);
  }

  const maxGap = optionalNumber(fields.maxGap);
  if (maxGap !== undefined) {
    if (!Number.isInteger(maxGap) || maxGap < 0 || maxGap > 125) problems.push(`${context}: max gap "${fields.maxGap}" is not a whole number in 0..125`);
    else planOptions.maxGap = maxGap;
  }
  const maxRegisters = optionalNumber(fields.maxRegisters);
  if (maxRegisters !== undefined) {
    if (!Number.isInteger(maxRegisters) || maxRegisters < 1 || maxRegisters > 125) {
      problems.push(`${context}: max per read "${fields.maxRegisters}" is not a whole number in 1..125`);
    } else planOptions.maxRegisters = Math.min(maxRegisters, planOptions.maxRegisters ?? 125);
  }
  const never = parseRanges(fields.neverRead ?? '', context);
  problems.push(...never.errors);
  planOptions.neverRead = [...(planOptions.neverRead ?? []), ...never.ranges];
  if (problems.length) throw new DeviceConfigError(problems);

  try {
    return { points, plan: planReads(points, planOptions), planOptions, model, profile };
  } catch (err) {
    const list = err instanceof PlanError ? err.problems : [(err as Error).message];
    throw new DeviceConfigError(list.map((p) => `${context}: ${p}`));
  }
}

/**
 * Devices with the same fields share one resolved device: points, plan and plan options
 * are worked out once and frozen, so a fleet of 1000 meters of one model (or one typed
 * point list) holds one copy, and its deploy plans once. Errors are not kept: they name
 * the device (`context`).
 */
export function resolveDeviceShared(fields: PollerFields, registry: () => MeterRegistry, context: string): ResolvedDevice {
  const fromModel = (fields.source || 'model') === 'model';
  const key = JSON.stringify([fromModel, fromModel ? [fields.model, fields.profile, fields.byteOrder] : fields.points, fields.maxGap, fields.maxRegisters, fields.neverRead]);
  let cache: Map<string, ResolvedDevice>;
  try {
    // A reloaded registry is a new object: its devices resolve anew.
    cache = fromModel ? byRegistry(registry()) : fromPointLists;
  } catch {
    return resolveDevice(fields, registry, context);
  }
  const known = cache.get(key);
  if (known) return known;
  const resolved = deepFreeze(resolveDevice(fields, registry, context));
  // Bounded: a long-running Node-RED that deploys ever new point lists does not keep every one.
  if (cache.size >= MAX_SHARED) cache.delete(cache.keys().next().value as string);
  cache.set(key, resolved);
  return resolved;
}

const MAX_SHARED = 256;
const fromPointLists = new Map<string, ResolvedDevice>();
const fromRegistries = new WeakMap<MeterRegistry, Map<string, ResolvedDevice>>();

function byRegistry(registry: MeterRegistry): Map<string, ResolvedDevice> {
  let cache = fromRegistries.get(registry);
  if (!cache) fromRegistries.set(registry, (cache = new Map()));
  return cache;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** The interval field (seconds) in ms, or what is wrong with it, worded in the field's own unit. */
export function pollIntervalMs(raw: unknown, context: string): number | string {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    return `${context}: interval ${typeof raw === 'string' ? JSON.stringify(raw) : String(raw)} is not a number of seconds >= 0`;
  }
  return Math.round(seconds * 1000);
}

/** The plan in the shape the editor prints. */
export function planForEditor(plan: ReadPlan): { summary: string; requests: Array<{ fc: number; registerType: string; address: number; quantity: number; points: string[] }> } {
  return {
    summary: plan.summary,
    requests: plan.requests.map((r) => ({ fc: r.fc, registerType: r.registerType, address: r.address, quantity: r.quantity, points: r.points.map((p) => p.name) })),
  };
}
