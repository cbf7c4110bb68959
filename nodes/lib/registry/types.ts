/** The meter registry's vocabulary: what a model file becomes once loaded and checked. */
import type { ByteOrder, PointDef, RegisterRange } from '../modbus/types';

export type MeterProtocol = 'modbus-rtu' | 'modbus-tcp';
export type Parity = 'none' | 'even' | 'odd';

/**
 * How a model file writes its addresses:
 * - `protocol`: zero-based, as sent on the wire (input register 30001 is input address 0);
 * - `document`: the manual's prefixed numbering (1xxxx discrete, 3xxxx input, 4xxxx holding,
 *   or the 6-digit forms 3xxxxx/4xxxxx; 0xxxx coils); the register type follows from the prefix;
 * - `one-based`: the manual's register number without a prefix (register 3000 is address 2999).
 */
export type Addressing = 'protocol' | 'document' | 'one-based';

export interface SerialDefaults {
  baudRate: number;
  parity: Parity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** Where the register map came from: the maker's manual. */
export interface SourceRef {
  title: string;
  document?: string;
  version?: string;
  pages?: string;
  url?: string;
}

export interface ProfileDef {
  name: string;
  description?: string;
  /** Profiles whose points come first, in order. */
  extends: string[];
  /** Point names this profile adds. */
  points: string[];
  /** Points computed from the profile's points where the meter does not provide them (rtu-derive applies them). */
  derived: ProfileDerivedPoint[];
}

export interface ProfileDerivedPoint {
  name: string;
  /** An rtu-derive expression over the profile's points. */
  expression: string;
  unit?: string;
  description?: string;
}

/** A never-read range as written in the file, with the reason the maker gives. */
export interface NeverReadRange extends RegisterRange {
  reason?: string;
}

export interface MeterModel {
  /** `<manufacturer-slug>/<model-slug>`, from the file's place in its folder. */
  id: string;
  manufacturer: string;
  model: string;
  aliases: string[];
  description?: string;
  protocols: MeterProtocol[];
  serial?: SerialDefaults;
  tcpPort?: number;
  unitId: number;
  /** Default order of multi-register values; a point's own `order` wins. */
  byteOrder: ByteOrder;
  addressing: Addressing;
  maxRegisters?: number;
  neverRead: NeverReadRange[];
  source: SourceRef;
  /** Registers or quantities left out because no source confirmed them. */
  gaps: string[];
  notes: string[];
  /** Points with zero-based protocol addresses, order and length resolved. */
  points: PointDef[];
  profiles: Record<string, ProfileDef>;
  /** Absolute path of the file, and the registry folder it was loaded from. */
  file: string;
  dir: string;
}

/** What a poller or the line needs from a model before the first request. */
export interface ModelDefaults {
  protocols: MeterProtocol[];
  serial?: SerialDefaults;
  tcpPort?: number;
  unitId: number;
  byteOrder: ByteOrder;
  plan: PlanOptions;
}

/** Limits the request planner must respect for this model. */
export interface PlanOptions {
  maxRegisters?: number;
  neverRead: RegisterRange[];
}

export interface RegistryError {
  /** Absolute path of the file. */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** Field path inside the file, e.g. `points[7].dataType`; empty for the whole file. */
  field: string;
  message: string;
  /** `file:line: field: message`, as shown in logs and the editor. */
  text: string;
}

/** A model that replaced another with the same id from an earlier folder. */
export interface RegistryOverride {
  id: string;
  file: string;
  replaced: string;
}

export interface ModelSummary {
  id: string;
  model: string;
  aliases: string[];
  protocols: MeterProtocol[];
  profiles: { name: string; description?: string; points: number }[];
  user: boolean;
}

export interface ManufacturerSummary {
  manufacturer: string;
  models: ModelSummary[];
}
