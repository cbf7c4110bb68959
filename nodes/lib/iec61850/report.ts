/**
 * IEC 61850 reports as MMS InformationReports (IEC 61850-8-1 clause 17): a fixed
 * header whose optional fields follow OptFlds, an inclusion bit string, then one
 * value (and optionally a data reference and a reason) per included member.
 */
import { DecodeError } from './errors';
import { binaryTimeToMs, MmsValue } from './mms-data';
import { InformationReport } from './mms-pdu';
import { AccessResult } from './mms-services';

/** OptFlds bit positions. */
export const OPT = {
  sequenceNumber: 1,
  reportTimeStamp: 2,
  reasonForInclusion: 3,
  dataSetName: 4,
  dataReference: 5,
  bufferOverflow: 6,
  entryId: 7,
  confRevision: 8,
  segmentation: 9,
} as const;

/** TrgOps bit positions (also the reason-for-inclusion bits). */
export const TRIGGER = {
  dataChange: 1,
  qualityChange: 2,
  dataUpdate: 3,
  integrity: 4,
  generalInterrogation: 5,
} as const;

const REASONS = ['reserved', 'data-change', 'quality-change', 'data-update', 'integrity', 'general-interrogation', 'application-trigger'];

export interface ReportEntry {
  /** Position of the member in the data set. */
  index: number;
  value: MmsValue;
  /** The member's reference when the report carries data references (MMS form `LD/LN$FC$DO`). */
  reference?: string;
  reasons?: string[];
}

export interface Report {
  rptId: string;
  optFlds: boolean[];
  seqNum?: number;
  /** Epoch ms of the report (TimeOfEntry). */
  timeOfEntry?: number;
  dataSet?: string;
  bufferOverflow?: boolean;
  entryId?: Buffer;
  confRev?: number;
  subSeqNum?: number;
  moreSegmentsFollow?: boolean;
  entries: ReportEntry[];
}

export function isReport(r: InformationReport): boolean {
  return r.access.kind === 'named-list' && r.access.name.scope === 'vmd' && r.access.name.item === 'RPT';
}

class Cursor {
  private pos = 0;
  constructor(private readonly results: AccessResult[]) {}

  next<T extends MmsValue['type']>(type: T, field: string): Extract<MmsValue, { type: T }> {
    const r = this.results[this.pos];
    if (!r) throw new DecodeError('mms', `report ends before ${field}`);
    if (!r.ok) throw new DecodeError('mms', `report ${field} is an access failure (${r.error})`);
    if (r.value.type !== type) throw new DecodeError('mms', `report ${field} is ${r.value.type}, expected ${type}`);
    this.pos++;
    return r.value as Extract<MmsValue, { type: T }>;
  }

  any(field: string): MmsValue {
    const r = this.results[this.pos];
    if (!r) throw new DecodeError('mms', `report ends before ${field}`);
    this.pos++;
    // A failed member in a report carries no value; keep its position with an empty structure.
    return r.ok ? r.value : { type: 'structure', value: [] };
  }

  unsigned(field: string): number {
    const r = this.results[this.pos];
    const v = r && r.ok && (r.value.type === 'unsigned' || r.value.type === 'integer') ? r.value.value : undefined;
    if (v === undefined) throw new DecodeError('mms', `report ${field} is missing or not an integer`);
    this.pos++;
    return Number(v);
  }
}

export function decodeReport(r: InformationReport): Report {
  const c = new Cursor(r.results);
  const rptId = c.next('visible-string', 'RptID').value;
  const optFlds = c.next('bit-string', 'OptFlds').value;
  const has = (bit: number): boolean => optFlds[bit] === true;
  const report: Report = { rptId, optFlds, entries: [] };
  if (has(OPT.sequenceNumber)) report.seqNum = c.unsigned('SqNum');
  if (has(OPT.reportTimeStamp)) report.timeOfEntry = binaryTimeToMs(c.next('binary-time', 'TimeOfEntry').value);
  if (has(OPT.dataSetName)) report.dataSet = c.next('visible-string', 'DatSet').value;
  if (has(OPT.bufferOverflow)) report.bufferOverflow = c.next('boolean', 'BufOvfl').value;
  if (has(OPT.entryId)) report.entryId = c.next('octet-string', 'EntryID').value;
  if (has(OPT.confRevision)) report.confRev = c.unsigned('ConfRev');
  if (has(OPT.segmentation)) {
    report.subSeqNum = c.unsigned('SubSeqNum');
    report.moreSegmentsFollow = c.next('boolean', 'MoreSegmentsFollow').value;
  }
  const inclusion = c.next('bit-string', 'inclusion bit string').value;
  const included = inclusion.flatMap((on, i) => (on ? [i] : []));
  const references = has(OPT.dataReference) ? included.map((i) => c.next('visible-string', `data reference of member ${i}`).value) : [];
  const values = included.map((i) => c.any(`value of member ${i}`));
  const reasons = has(OPT.reasonForInclusion)
    ? included.map((i) => c.next('bit-string', `reason of member ${i}`).value.flatMap((on, bit) => (on ? [REASONS[bit] ?? `bit-${bit}`] : [])))
    : [];
  report.entries = included.map((index, k) => ({
    index,
    value: values[k],
    ...(references.length ? { reference: references[k] } : {}),
    ...(reasons.length ? { reasons: reasons[k] } : {}),
  }));
  return report;
}
