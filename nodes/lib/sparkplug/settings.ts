/** The rtu-sparkplug form, checked: ids, write allow-list, deadbands; errors name the field. */
import { parseDeadbandRules, Deadband, NameRule } from '../publish/rules';
import { checkId } from './ids';

export interface SparkplugFields {
  groupId: string;
  edgeNodeId: string;
  primaryHostId?: string;
  deadbands?: string;
  writesEnabled?: boolean;
  allowWrites?: string;
  healthInterval?: string | number;
}

export interface SparkplugSettings {
  groupId: string;
  edgeNodeId: string;
  primaryHostId?: string;
  deadbands: NameRule<Deadband>[];
  writesEnabled: boolean;
  /** Tests `device/point` against the allow-list. */
  allowed: (device: string, point: string) => boolean;
  healthIntervalMs: number;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** `device/point` entries (one per line or comma separated, * and ? as wildcards). */
export function parseWriteAllowList(text: string): (device: string, point: string) => boolean {
  const rules: RegExp[] = [];
  for (const raw of text.split(/[,;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const parts = entry.split('/');
    if (parts.length !== 2 || !parts[0].trim() || !parts[1].trim()) {
      throw new Error(`write allow-list: "${entry}" is not device/point (for example meter1/power_limit or pv_*/setpoint_*)`);
    }
    rules.push(glob(`${parts[0].trim()}/${parts[1].trim()}`));
  }
  return (device, point) => rules.some((r) => r.test(`${device}/${point}`));
}

export function sparkplugSettings(f: SparkplugFields): SparkplugSettings {
  const groupId = checkId('group id', f.groupId.trim());
  const edgeNodeId = checkId('edge node id', f.edgeNodeId.trim());
  const host = (f.primaryHostId ?? '').trim();
  const seconds = f.healthInterval === undefined || f.healthInterval === '' ? 10 : Number(f.healthInterval);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`node metrics interval "${f.healthInterval}" must be a number of seconds >= 0`);
  return {
    groupId,
    edgeNodeId,
    primaryHostId: host ? checkId('primary host id', host) : undefined,
    deadbands: parseDeadbandRules(f.deadbands ?? ''),
    writesEnabled: f.writesEnabled === true,
    allowed: parseWriteAllowList(f.writesEnabled ? (f.allowWrites ?? '') : ''),
    healthIntervalMs: Math.round(seconds * 1000),
  };
}
