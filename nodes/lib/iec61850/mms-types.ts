/**
 * MMS TypeSpecification (ISO 9506-2): the type of a variable as
 * GetVariableAccessAttributes returns it; for IEC 61850 a logical node is a
 * structure FC → data object → data attribute.
 */
import * as ber from './ber';
import { DecodeError } from './errors';
import { MAX_NESTING } from './mms-data';

export interface Component {
  name: string;
  spec: TypeSpec;
}

export type TypeSpec =
  | { type: 'structure'; components: Component[] }
  | { type: 'array'; count: number; element: TypeSpec }
  | { type: 'boolean' }
  | { type: 'bit-string'; size: number }
  | { type: 'integer'; bits: number }
  | { type: 'unsigned'; bits: number }
  | { type: 'float'; formatWidth: number; exponentWidth: number }
  | { type: 'octet-string'; size: number }
  | { type: 'visible-string'; size: number }
  | { type: 'mms-string'; size: number }
  | { type: 'generalized-time' }
  | { type: 'binary-time'; withDate: boolean }
  | { type: 'bcd'; digits: number }
  | { type: 'oid' }
  | { type: 'utc-time' }
  | { type: 'named'; domain?: string; item: string };

/** TypeSpecification as a CHOICE value (the caller adds any explicit tag around it). */
export function encodeTypeSpec(s: TypeSpec): Buffer {
  switch (s.type) {
    case 'structure':
      return ber.ctxC(
        2,
        ber.ctxC(1, ...s.components.map((c) => ber.seq(ber.ctx(0, Buffer.from(c.name, 'latin1')), ber.ctxC(1, encodeTypeSpec(c.spec))))),
      );
    case 'array':
      return ber.ctxC(1, ber.ctx(1, ber.intBytes(s.count)), ber.ctxC(2, encodeTypeSpec(s.element)));
    case 'boolean':
      return ber.ctx(3, Buffer.alloc(0));
    case 'bit-string':
      return ber.ctx(4, ber.intBytes(s.size));
    case 'integer':
      return ber.ctx(5, ber.intBytes(s.bits));
    case 'unsigned':
      return ber.ctx(6, ber.intBytes(s.bits));
    case 'float':
      return ber.ctxC(7, ber.int(s.formatWidth), ber.int(s.exponentWidth));
    case 'octet-string':
      return ber.ctx(9, ber.intBytes(s.size));
    case 'visible-string':
      return ber.ctx(10, ber.intBytes(s.size));
    case 'generalized-time':
      return ber.ctx(11, Buffer.alloc(0));
    case 'binary-time':
      return ber.ctx(12, Buffer.from([s.withDate ? 0xff : 0]));
    case 'bcd':
      return ber.ctx(13, ber.intBytes(s.digits));
    case 'oid':
      return ber.ctx(15, Buffer.alloc(0));
    case 'mms-string':
      return ber.ctx(16, ber.intBytes(s.size));
    case 'utc-time':
      return ber.ctx(17, Buffer.alloc(0));
    case 'named':
      return ber.ctxC(
        0,
        s.domain === undefined
          ? ber.ctx(0, Buffer.from(s.item, 'latin1'))
          : ber.ctxC(1, ber.visible(s.domain), ber.visible(s.item)),
      );
  }
}

const smallInt = (t: ber.Tlv, what: string): number => ber.decodeSmallInt(t, what);

export function decodeTypeSpec(t: ber.Tlv, depth = 0): TypeSpec {
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `type ${ber.describeTag(t)} is not context-specific`, t.start);
  if (depth >= MAX_NESTING) throw new DecodeError('mms', `type nested deeper than ${MAX_NESTING}`, t.start);
  switch (t.tag) {
    case 0: {
      const name = ber.inner(t, 'type name');
      if (name.tag === 1) {
        const [d, i] = ber.children(name);
        if (!d || !i) throw new DecodeError('mms', 'domain-specific type name without both names', name.start);
        return { type: 'named', domain: ber.decodeVisible(d), item: ber.decodeVisible(i) };
      }
      return { type: 'named', item: ber.decodeVisible(name) };
    }
    case 1: {
      const parts = ber.children(t);
      const count = ber.find(parts, ber.CONTEXT, 1);
      const element = ber.find(parts, ber.CONTEXT, 2);
      if (!count || !element) throw new DecodeError('mms', 'array type without element count or type', t.start);
      return { type: 'array', count: smallInt(count, 'array size'), element: decodeTypeSpec(ber.inner(element, 'element type'), depth + 1) };
    }
    case 2: {
      const list = ber.find(ber.children(t), ber.CONTEXT, 1);
      if (!list) throw new DecodeError('mms', 'structure type without components', t.start);
      return {
        type: 'structure',
        components: ber.children(list).map((c) => {
          const parts = ber.children(c);
          const name = ber.find(parts, ber.CONTEXT, 0);
          const spec = ber.find(parts, ber.CONTEXT, 1);
          if (!spec) throw new DecodeError('mms', 'structure component without a type', c.start);
          return { name: name ? ber.decodeVisible(name) : '', spec: decodeTypeSpec(ber.inner(spec, 'component type'), depth + 1) };
        }),
      };
    }
    case 3:
      return { type: 'boolean' };
    case 4:
      return { type: 'bit-string', size: smallInt(t, 'bit-string size') };
    case 5:
      return { type: 'integer', bits: smallInt(t, 'integer size') };
    case 6:
      return { type: 'unsigned', bits: smallInt(t, 'unsigned size') };
    case 7: {
      const [format, exponent] = ber.children(t);
      if (!format || !exponent) throw new DecodeError('mms', 'floating-point type without widths', t.start);
      return { type: 'float', formatWidth: smallInt(format, 'format width'), exponentWidth: smallInt(exponent, 'exponent width') };
    }
    case 9:
      return { type: 'octet-string', size: smallInt(t, 'octet-string size') };
    case 10:
      return { type: 'visible-string', size: smallInt(t, 'visible-string size') };
    case 11:
      return { type: 'generalized-time' };
    case 12:
      return { type: 'binary-time', withDate: t.value.length > 0 && ber.decodeBool(t) };
    case 13:
      return { type: 'bcd', digits: smallInt(t, 'bcd digits') };
    case 15:
      return { type: 'oid' };
    case 16:
      return { type: 'mms-string', size: smallInt(t, 'mms-string size') };
    case 17:
      return { type: 'utc-time' };
    default:
      throw new DecodeError('mms', `type tag [${t.tag}] is not an MMS type`, t.start);
  }
}
