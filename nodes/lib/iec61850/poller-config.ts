/** Maps the rtu-iec61850-poller form onto IedPoller options. */
import type { IedLink } from './ied-link';
import type { IedPollerOptions, PointSpec, ReportSpec } from './ied-poller';
import { parseDataSetReference } from './reference';

export interface IedPollerNodeConfig {
  name?: string;
  ied: string;
  interval?: string | number;
  points?: PointSpec[];
  dataSet?: string;
  report?: boolean;
  controlBlock?: string;
  /** Data set to write to the block's DatSet (`LD/LN.Name`); empty keeps the IED's. */
  rcbDataSet?: string;
  gi?: boolean;
  integrityPeriod?: string | number;
  /** TrgOps to set: dataChange, qualityChange, dataUpdate, integrity, generalInterrogation. Empty keeps the IED's. */
  triggers?: string[];
}

const TRIGGERS = ['dataChange', 'qualityChange', 'dataUpdate', 'integrity', 'generalInterrogation'] as const;

export function pollerOptionsFrom(cfg: IedPollerNodeConfig, device: string, link: IedLink): IedPollerOptions {
  const problems: string[] = [];
  const seconds = cfg.interval === undefined || cfg.interval === '' ? 1 : Number(cfg.interval);
  if (!Number.isFinite(seconds) || seconds < 0) problems.push(`device "${device}": interval ${JSON.stringify(cfg.interval)} is not a number of seconds >= 0`);
  const points = (Array.isArray(cfg.points) ? cfg.points : [])
    .filter((p) => p && String(p.reference ?? '').trim())
    .map((p) => ({ reference: String(p.reference).trim(), name: p.name ? String(p.name).trim() : undefined, unit: p.unit ? String(p.unit).trim() : undefined }));
  let report: ReportSpec | undefined;
  if (cfg.report && String(cfg.controlBlock ?? '').trim()) {
    const wanted = (cfg.triggers ?? []).filter((t): t is (typeof TRIGGERS)[number] => (TRIGGERS as readonly string[]).includes(t));
    const period = cfg.integrityPeriod === undefined || cfg.integrityPeriod === '' ? undefined : Number(cfg.integrityPeriod);
    if (period !== undefined && (!Number.isFinite(period) || period < 0)) {
      problems.push(`device "${device}": integrity period ${JSON.stringify(cfg.integrityPeriod)} is not a number of seconds >= 0`);
    }
    let dataSet: string | undefined;
    if (String(cfg.rcbDataSet ?? '').trim()) {
      const ds = parseDataSetReference(String(cfg.rcbDataSet));
      dataSet = `${ds.ld}/${ds.item}`;
    }
    report = {
      controlBlock: String(cfg.controlBlock).trim(),
      ...(dataSet ? { dataSet } : {}),
      generalInterrogation: cfg.gi !== false,
      ...(wanted.length ? { triggers: Object.fromEntries(TRIGGERS.map((t) => [t, wanted.includes(t)])) } : {}),
      ...(period !== undefined ? { integrityPeriodMs: Math.round(period * 1000) } : {}),
    };
  }
  // Both bad fields are named at once.
  if (problems.length) throw new RangeError(problems.join('; '));
  return {
    device,
    link,
    intervalMs: Math.round(seconds * 1000),
    points,
    dataSet: cfg.dataSet ? String(cfg.dataSet).trim() : undefined,
    report,
  };
}
