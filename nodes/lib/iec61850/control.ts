/**
 * IEC 61850 control services as mapped to MMS (IEC 61850-8-1 clause 20, 7-2 clause 20):
 * the Oper / SBOw / Cancel structures a client writes, and the LastApplError and
 * CommandTermination information reports an IED answers with.
 *
 * Oper ::= STRUCTURE { ctlVal, [operTm UtcTime], origin { orCat INT8, orIdent OCTET STRING },
 *                      ctlNum INT8U, T UtcTime, Test BOOLEAN, Check BIT STRING(2) }
 * SBOw is the same structure, Cancel has no Check. Components are taken by name from the
 * object's type as the IED reports it, so an IED without operTm (or with it) is served alike.
 */
import { MmsValue, UtcTime, utcTimeFromMs } from './mms-data';
import { describeName, VariableName } from './mms-names';
import { InformationReport } from './mms-pdu';
import { TypeSpec } from './mms-types';
import { AccessResult } from './mms-services';

export const CONTROL_MODELS = ['status-only', 'direct-with-normal-security', 'sbo-with-normal-security', 'direct-with-enhanced-security', 'sbo-with-enhanced-security'] as const;
export type ControlModel = (typeof CONTROL_MODELS)[number];

/** orCat (IEC 61850-7-3 Originator). */
export const OR_CAT = ['not-supported', 'bay-control', 'station-control', 'remote-control', 'automatic-bay', 'automatic-station', 'automatic-remote', 'maintenance', 'process'] as const;

/** AddCause (IEC 61850-7-2 clause 20, 8-1 LastApplError). */
export const ADD_CAUSE = [
  'Unknown', 'Not-supported', 'Blocked-by-switching-hierarchy', 'Select-failed', 'Invalid-position', 'Position-reached',
  'Parameter-change-in-execution', 'Step-limit', 'Blocked-by-Mode', 'Blocked-by-process', 'Blocked-by-interlocking',
  'Blocked-by-synchrocheck', 'Command-already-in-execution', 'Blocked-by-health', '1-of-n-control', 'Abortion-by-cancel',
  'Time-limit-over', 'Abortion-by-trip', 'Object-not-selected', 'Object-already-selected', 'No-access-authority',
  'Ended-with-overshoot', 'Abortion-due-to-deviation', 'Abortion-by-communication-loss', 'Blocked-by-command', 'None',
  'Inconsistent-parameters', 'Locked-by-other-client',
] as const;

/** LastApplError.Error (ControlError). */
export const CONTROL_ERROR = ['No-error', 'Unknown', 'Timeout-test-not-ok', 'Operator-test-not-ok'] as const;

export function addCauseText(code: number): string {
  return ADD_CAUSE[code] ?? `AddCause-${code}`;
}

export function controlModelOf(value: number): ControlModel | undefined {
  return CONTROL_MODELS[value];
}

export interface ControlParameters {
  ctlVal: MmsValue;
  orCat: number;
  orIdent: Buffer;
  ctlNum: number;
  /** Time of the command (T). */
  time: UtcTime;
  test: boolean;
  interlockCheck: boolean;
  synchroCheck: boolean;
}

export type ControlService = 'Oper' | 'SBOw' | 'Cancel';

/** Builds Oper, SBOw or Cancel for the structure type the IED reports; throws naming a component it cannot fill. */
export function buildControlValue(type: TypeSpec, p: ControlParameters, service: ControlService): MmsValue {
  if (type.type !== 'structure') throw new RangeError(`${service} is a ${type.type}, not a structure`);
  const values = type.components.map((c): MmsValue => {
    switch (c.name) {
      case 'ctlVal':
        return p.ctlVal;
      case 'operTm':
        // Not time-activated: an operTm of zero.
        return { type: 'utc-time', value: { seconds: 0, fraction: 0, quality: 0 } };
      case 'origin':
        return { type: 'structure', value: [{ type: 'integer', value: p.orCat }, { type: 'octet-string', value: p.orIdent }] };
      case 'ctlNum':
        return { type: 'unsigned', value: p.ctlNum };
      case 'T':
        return { type: 'utc-time', value: p.time };
      case 'Test':
        return { type: 'boolean', value: p.test };
      case 'Check':
        // Bit 0 synchrocheck, bit 1 interlock-check (IEC 61850-8-1 Check).
        return { type: 'bit-string', value: [p.synchroCheck, p.interlockCheck] };
      default:
        throw new RangeError(`${service} has a component "${c.name}" this client cannot fill`);
    }
  });
  return { type: 'structure', value: values };
}

export function commandTime(ms: number): UtcTime {
  // Time quality 0x0a: not leap-second-aware, synchronized, 10 significant bits.
  return utcTimeFromMs(ms, 0x0a);
}

export interface LastApplError {
  /** The MMS name of the control (`LD/LN$CO$DO$Oper`). */
  controlObject: string;
  error: number;
  orCat: number;
  orIdent: Buffer;
  ctlNum: number;
  addCause: number;
}

export function describeLastApplError(e: LastApplError): string {
  const err = CONTROL_ERROR[e.error] ?? `error ${e.error}`;
  const who = e.orIdent.length ? ` from ${OR_CAT[e.orCat] ?? `orCat ${e.orCat}`} "${e.orIdent.toString('latin1')}"` : '';
  return `${addCauseText(e.addCause)} (AddCause ${e.addCause}, ${err}, ctlNum ${e.ctlNum}${who})`;
}

function decodeLastApplError(r: AccessResult): LastApplError | undefined {
  if (!r.ok || r.value.type !== 'structure') return undefined;
  const [obj, error, origin, ctlNum, addCause] = r.value.value;
  const num = (v: MmsValue | undefined): number | undefined => (v && (v.type === 'integer' || v.type === 'unsigned') ? Number(v.value) : undefined);
  const or = origin?.type === 'structure' ? origin.value : [];
  if (obj?.type !== 'visible-string' || num(error) === undefined || num(ctlNum) === undefined || num(addCause) === undefined) return undefined;
  return {
    controlObject: obj.value,
    error: num(error) as number,
    orCat: num(or[0]) ?? 0,
    orIdent: or[1]?.type === 'octet-string' ? or[1].value : Buffer.alloc(0),
    ctlNum: num(ctlNum) as number,
    addCause: num(addCause) as number,
  };
}

export type ControlReport =
  | { kind: 'last-appl-error'; error: LastApplError }
  | { kind: 'command-termination'; controlObject: string; positive: true; oper?: MmsValue }
  | { kind: 'command-termination'; controlObject: string; positive: false; error: LastApplError; oper?: MmsValue };

const isLastApplError = (n: VariableName): boolean => n.scope === 'vmd' && n.item === 'LastApplError';

/** LastApplError alone, or a CommandTermination (+ the Oper; - LastApplError then the Oper); undefined for other reports. */
export function decodeControlReport(r: InformationReport): ControlReport | undefined {
  if (r.access.kind !== 'list') return undefined;
  const vars = r.access.variables;
  if (vars.length === 1 && isLastApplError(vars[0])) {
    const error = r.results[0] && decodeLastApplError(r.results[0]);
    return error ? { kind: 'last-appl-error', error } : undefined;
  }
  const operAt = vars.findIndex((v) => v.scope === 'domain' && v.item.endsWith('$Oper'));
  if (operAt < 0) return undefined;
  const controlObject = describeName(vars[operAt]);
  const oper = r.results[operAt]?.ok ? (r.results[operAt] as { ok: true; value: MmsValue }).value : undefined;
  const errorAt = vars.findIndex(isLastApplError);
  if (errorAt < 0) return { kind: 'command-termination', controlObject, positive: true, oper };
  const error = r.results[errorAt] && decodeLastApplError(r.results[errorAt]);
  return error ? { kind: 'command-termination', controlObject, positive: false, error, oper } : undefined;
}

export function encodeLastApplError(e: LastApplError): MmsValue {
  return {
    type: 'structure',
    value: [
      { type: 'visible-string', value: e.controlObject },
      { type: 'integer', value: e.error },
      { type: 'structure', value: [{ type: 'integer', value: e.orCat }, { type: 'octet-string', value: e.orIdent }] },
      { type: 'unsigned', value: e.ctlNum },
      { type: 'integer', value: e.addCause },
    ],
  };
}
