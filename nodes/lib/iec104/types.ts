/**
 * Type identifications and causes of transmission (IEC 60870-5-101/104) that
 * this stack knows, with the shape of each type's information element.
 */

/** Shape of the information element after the IOA. */
export type ElementKind =
  | 'sp' // SIQ
  | 'dp' // DIQ
  | 'st' // VTI + QDS
  | 'bo' // BSI + QDS
  | 'nva' // NVA + QDS
  | 'nva-nq' // NVA without quality
  | 'sva' // SVA + QDS
  | 'float' // IEEE 754 short + QDS
  | 'bcr' // binary counter reading
  | 'coi' // cause of initialisation
  | 'sco' // single command
  | 'dco' // double command
  | 'rco' // regulating step command
  | 'se-nva' // NVA + QOS
  | 'se-sva' // SVA + QOS
  | 'se-float' // short float + QOS
  | 'qoi' // qualifier of interrogation
  | 'qcc' // qualifier of counter interrogation
  | 'none' // read command: IOA only
  | 'cs' // clock sync: CP56Time2a only
  | 'tsc'; // test command with time: TSC + CP56Time2a

export interface TypeInfo {
  id: number;
  name: string;
  kind: ElementKind;
  /** A CP56Time2a follows the element. */
  timed: boolean;
  /** Monitor direction (outstation → master) or control direction. */
  direction: 'monitor' | 'control';
}

const defs: Array<[number, string, ElementKind, boolean, 'monitor' | 'control']> = [
  [1, 'M_SP_NA_1', 'sp', false, 'monitor'],
  [3, 'M_DP_NA_1', 'dp', false, 'monitor'],
  [5, 'M_ST_NA_1', 'st', false, 'monitor'],
  [7, 'M_BO_NA_1', 'bo', false, 'monitor'],
  [9, 'M_ME_NA_1', 'nva', false, 'monitor'],
  [11, 'M_ME_NB_1', 'sva', false, 'monitor'],
  [13, 'M_ME_NC_1', 'float', false, 'monitor'],
  [15, 'M_IT_NA_1', 'bcr', false, 'monitor'],
  [21, 'M_ME_ND_1', 'nva-nq', false, 'monitor'],
  [30, 'M_SP_TB_1', 'sp', true, 'monitor'],
  [31, 'M_DP_TB_1', 'dp', true, 'monitor'],
  [32, 'M_ST_TB_1', 'st', true, 'monitor'],
  [33, 'M_BO_TB_1', 'bo', true, 'monitor'],
  [34, 'M_ME_TD_1', 'nva', true, 'monitor'],
  [35, 'M_ME_TE_1', 'sva', true, 'monitor'],
  [36, 'M_ME_TF_1', 'float', true, 'monitor'],
  [37, 'M_IT_TB_1', 'bcr', true, 'monitor'],
  [45, 'C_SC_NA_1', 'sco', false, 'control'],
  [46, 'C_DC_NA_1', 'dco', false, 'control'],
  [47, 'C_RC_NA_1', 'rco', false, 'control'],
  [48, 'C_SE_NA_1', 'se-nva', false, 'control'],
  [49, 'C_SE_NB_1', 'se-sva', false, 'control'],
  [50, 'C_SE_NC_1', 'se-float', false, 'control'],
  [58, 'C_SC_TA_1', 'sco', true, 'control'],
  [59, 'C_DC_TA_1', 'dco', true, 'control'],
  [60, 'C_RC_TA_1', 'rco', true, 'control'],
  [61, 'C_SE_TA_1', 'se-nva', true, 'control'],
  [62, 'C_SE_TB_1', 'se-sva', true, 'control'],
  [63, 'C_SE_TC_1', 'se-float', true, 'control'],
  [70, 'M_EI_NA_1', 'coi', false, 'monitor'],
  [100, 'C_IC_NA_1', 'qoi', false, 'control'],
  [101, 'C_CI_NA_1', 'qcc', false, 'control'],
  [102, 'C_RD_NA_1', 'none', false, 'control'],
  [103, 'C_CS_NA_1', 'cs', false, 'control'],
  [107, 'C_TS_TA_1', 'tsc', true, 'control'],
];

export const TYPES = new Map<number, TypeInfo>(defs.map(([id, name, kind, timed, direction]) => [id, { id, name, kind, timed, direction }]));
export const TYPE_BY_NAME = new Map<string, TypeInfo>([...TYPES.values()].map((t) => [t.name, t]));

/** Type ids by name, for readable code: T.M_SP_NA_1 === 1. */
export const T = Object.fromEntries(defs.map(([id, name]) => [name, id])) as Record<(typeof defs)[number][1], number> & Record<string, number>;

const ELEMENT_SIZE: Record<ElementKind, number> = {
  sp: 1, dp: 1, st: 2, bo: 5, nva: 3, 'nva-nq': 2, sva: 3, float: 5, bcr: 5, coi: 1,
  sco: 1, dco: 1, rco: 1, 'se-nva': 3, 'se-sva': 3, 'se-float': 5, qoi: 1, qcc: 1, none: 0, cs: 7, tsc: 2,
};

/** Octets of one information element of a type, time tag included, IOA excluded. */
export function elementSize(t: TypeInfo): number {
  return ELEMENT_SIZE[t.kind] + (t.timed ? 7 : 0);
}

export function typeName(id: number): string {
  return TYPES.get(id)?.name ?? `type ${id}`;
}

/** Causes of transmission. */
export const COT = {
  PERIODIC: 1,
  BACKGROUND: 2,
  SPONTANEOUS: 3,
  INITIALISED: 4,
  REQUEST: 5,
  ACTIVATION: 6,
  ACTIVATION_CON: 7,
  DEACTIVATION: 8,
  DEACTIVATION_CON: 9,
  ACTIVATION_TERM: 10,
  RETURN_REMOTE: 11,
  RETURN_LOCAL: 12,
  INTERROGATED_STATION: 20,
  // 21..36: interrogated by group 1..16
  COUNTER_INTERROGATED_GENERAL: 37,
  // 38..41: counter group 1..4
  UNKNOWN_TYPE: 44,
  UNKNOWN_COT: 45,
  UNKNOWN_CA: 46,
  UNKNOWN_IOA: 47,
} as const;

/** Qualifier of interrogation: 20 = station, 21..36 = group 1..16. */
export const QOI_STATION = 20;
