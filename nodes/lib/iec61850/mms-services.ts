/**
 * The confirmed MMS services an IEC 61850 client needs (ISO 9506-2): request and
 * response bodies, encoded and decoded in both directions so the same code serves
 * the client and the test server.
 */
import * as ber from './ber';
import { DecodeError } from './errors';
import { decodeData, encodeData, MmsValue } from './mms-data';
import { decodeTypeSpec, encodeTypeSpec, TypeSpec } from './mms-types';
import {
  decodeObjectName,
  decodeVariable,
  decodeVariableAccess,
  encodeObjectName,
  encodeVariable,
  encodeVariableAccess,
  ObjectName,
  VariableAccess,
  VariableName,
} from './mms-names';

/** MMS object classes used with GetNameList. */
export const OBJECT_CLASS = { namedVariable: 0, namedVariableList: 2, domain: 9 } as const;

export type NameScope = { kind: 'vmd' } | { kind: 'domain'; domain: string } | { kind: 'aa' };

export type ConfirmedRequest =
  | { service: 'getNameList'; objectClass: number; scope: NameScope; continueAfter?: string }
  | { service: 'identify' }
  | { service: 'read'; access: VariableAccess; specificationWithResult?: boolean }
  | { service: 'write'; access: VariableAccess; values: MmsValue[] }
  | { service: 'getVariableAccessAttributes'; name: ObjectName }
  | { service: 'getNamedVariableListAttributes'; name: ObjectName };

export type AccessResult = { ok: true; value: MmsValue } | { ok: false; error: number };
export type WriteResult = { ok: true } | { ok: false; error: number };

export type ConfirmedResponse =
  | { service: 'getNameList'; identifiers: string[]; moreFollows: boolean }
  | { service: 'identify'; vendor: string; model: string; revision: string }
  | { service: 'read'; access?: VariableAccess; results: AccessResult[] }
  | { service: 'write'; results: WriteResult[] }
  | { service: 'getVariableAccessAttributes'; deletable: boolean; type: TypeSpec }
  | { service: 'getNamedVariableListAttributes'; deletable: boolean; variables: VariableName[] };

export type ServiceName = ConfirmedRequest['service'];

const SERVICE_TAG: Record<ServiceName, number> = {
  identify: 2,
  getNameList: 1,
  read: 4,
  write: 5,
  getVariableAccessAttributes: 6,
  getNamedVariableListAttributes: 12,
};

const SERVICE_OF_TAG = new Map<number, ServiceName>(Object.entries(SERVICE_TAG).map(([k, v]) => [v, k as ServiceName]));

export function serviceOfTag(tag: number): ServiceName | undefined {
  return SERVICE_OF_TAG.get(tag);
}

const bool = (v: boolean): Buffer => Buffer.from([v ? 1 : 0]);
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function encodeScope(scope: NameScope): Buffer {
  if (scope.kind === 'domain') return ber.ctx(1, latin1(scope.domain));
  return ber.ctx(scope.kind === 'vmd' ? 0 : 2, Buffer.alloc(0));
}

export function encodeAccessResult(r: AccessResult): Buffer {
  return r.ok ? encodeData(r.value) : ber.ctx(0, ber.intBytes(r.error));
}

export function decodeAccessResult(t: ber.Tlv): AccessResult {
  if (t.cls === ber.CONTEXT && t.tag === 0 && !t.constructed) return { ok: false, error: ber.decodeSmallInt(t, 'DataAccessError') };
  return { ok: true, value: decodeData(t) };
}

/** The service choice of a confirmed request (the caller wraps it with the invoke id). */
export function encodeRequest(r: ConfirmedRequest): Buffer {
  const tag = SERVICE_TAG[r.service];
  switch (r.service) {
    case 'getNameList': {
      const parts = [ber.ctxC(0, ber.ctx(0, ber.intBytes(r.objectClass))), ber.ctxC(1, encodeScope(r.scope))];
      if (r.continueAfter !== undefined) parts.push(ber.ctx(2, latin1(r.continueAfter)));
      return ber.ctxC(tag, ...parts);
    }
    case 'identify':
      return ber.ctx(tag, Buffer.alloc(0));
    case 'read': {
      const parts = r.specificationWithResult ? [ber.ctx(0, bool(true))] : [];
      return ber.ctxC(tag, ...parts, ber.ctxC(1, encodeVariableAccess(r.access)));
    }
    case 'write':
      return ber.ctxC(tag, encodeVariableAccess(r.access), ber.ctxC(0, ...r.values.map(encodeData)));
    case 'getVariableAccessAttributes':
      return ber.ctxC(tag, ber.ctxC(0, encodeObjectName(r.name)));
    case 'getNamedVariableListAttributes':
      return ber.ctxC(tag, encodeObjectName(r.name));
  }
}

export function encodeResponse(r: ConfirmedResponse): Buffer {
  const tag = SERVICE_TAG[r.service];
  switch (r.service) {
    case 'getNameList':
      return ber.ctxC(tag, ber.ctxC(0, ...r.identifiers.map(ber.visible)), ber.ctx(1, bool(r.moreFollows)));
    case 'identify':
      return ber.ctxC(tag, ber.ctx(0, latin1(r.vendor)), ber.ctx(1, latin1(r.model)), ber.ctx(2, latin1(r.revision)));
    case 'read': {
      const parts = r.access ? [ber.ctxC(0, encodeVariableAccess(r.access))] : [];
      return ber.ctxC(tag, ...parts, ber.ctxC(1, ...r.results.map(encodeAccessResult)));
    }
    case 'write':
      return ber.ctxC(tag, ...r.results.map((w) => (w.ok ? ber.ctx(1, Buffer.alloc(0)) : ber.ctx(0, ber.intBytes(w.error)))));
    case 'getVariableAccessAttributes':
      return ber.ctxC(tag, ber.ctx(0, bool(r.deletable)), ber.ctxC(2, encodeTypeSpec(r.type)));
    case 'getNamedVariableListAttributes':
      return ber.ctxC(tag, ber.ctx(0, bool(r.deletable)), ber.ctxC(1, ...r.variables.map(encodeVariable)));
  }
}

function decodeScope(t: ber.Tlv): NameScope {
  const s = ber.inner(t, 'object scope');
  if (s.tag === 1) return { kind: 'domain', domain: ber.decodeVisible(s, 'domain') };
  return { kind: s.tag === 0 ? 'vmd' : 'aa' };
}

function serviceOf(t: ber.Tlv, what: string): ServiceName {
  const service = t.cls === ber.CONTEXT ? SERVICE_OF_TAG.get(t.tag) : undefined;
  if (!service) throw new DecodeError('mms', `${what} service [${t.tag}] is not supported`, t.start);
  return service;
}

export function decodeRequest(t: ber.Tlv): ConfirmedRequest {
  const service = serviceOf(t, 'request');
  if (service === 'identify') return { service };
  const parts = ber.children(t);
  switch (service) {
    case 'getNameList': {
      const cls = ber.need(parts, ber.CONTEXT, 0, 'object class');
      const scope = ber.need(parts, ber.CONTEXT, 1, 'object scope');
      const after = ber.find(parts, ber.CONTEXT, 2);
      return {
        service,
        objectClass: ber.decodeSmallInt(ber.inner(cls, 'object class'), 'object class'),
        scope: decodeScope(scope),
        continueAfter: after && ber.decodeVisible(after),
      };
    }
    case 'read': {
      const spec = ber.find(parts, ber.CONTEXT, 0);
      const access = ber.need(parts, ber.CONTEXT, 1, 'variable access specification');
      return {
        service,
        access: decodeVariableAccess(ber.inner(access, 'variable access specification')),
        specificationWithResult: spec ? ber.decodeBool(spec) : false,
      };
    }
    case 'write': {
      const [access, data] = parts;
      if (!access || !ber.isCtx(data, 0)) throw new DecodeError('mms', 'write request without variables and data', t.start);
      return { service, access: decodeVariableAccess(access), values: ber.children(data).map((d) => decodeData(d)) };
    }
    case 'getVariableAccessAttributes': {
      const name = ber.need(parts, ber.CONTEXT, 0, 'variable name');
      return { service, name: decodeObjectName(ber.inner(name, 'variable name')) };
    }
    case 'getNamedVariableListAttributes':
      if (!parts[0]) throw new DecodeError('mms', 'variable list attributes request without a name', t.start);
      return { service, name: decodeObjectName(parts[0]) };
  }
}

export function decodeResponse(t: ber.Tlv): ConfirmedResponse {
  const service = serviceOf(t, 'response');
  const parts = t.constructed ? ber.children(t) : [];
  switch (service) {
    case 'getNameList': {
      const list = ber.need(parts, ber.CONTEXT, 0, 'list of identifiers');
      const more = ber.find(parts, ber.CONTEXT, 1);
      return {
        service,
        identifiers: ber.children(list).map((i) => ber.decodeVisible(i, 'identifier')),
        // moreFollows defaults to TRUE in the ASN.1.
        moreFollows: more ? ber.decodeBool(more) : true,
      };
    }
    case 'identify': {
      const text = (tag: number): string => {
        const p = ber.find(parts, ber.CONTEXT, tag);
        return p ? ber.decodeVisible(p) : '';
      };
      return { service, vendor: text(0), model: text(1), revision: text(2) };
    }
    case 'read': {
      const access = ber.find(parts, ber.CONTEXT, 0);
      const results = ber.need(parts, ber.CONTEXT, 1, 'list of access results');
      return {
        service,
        access: access && decodeVariableAccess(ber.inner(access, 'variable access specification')),
        results: ber.children(results).map(decodeAccessResult),
      };
    }
    case 'write':
      return {
        service,
        results: parts.map((p): WriteResult => {
          if (ber.isCtx(p, 1)) return { ok: true };
          if (ber.isCtx(p, 0)) return { ok: false, error: ber.decodeSmallInt(p, 'DataAccessError') };
          throw new DecodeError('mms', `write result ${ber.describeTag(p)} is not valid`, p.start);
        }),
      };
    case 'getVariableAccessAttributes': {
      const deletable = ber.find(parts, ber.CONTEXT, 0);
      const type = ber.need(parts, ber.CONTEXT, 2, 'type specification');
      return { service, deletable: deletable ? ber.decodeBool(deletable) : false, type: decodeTypeSpec(ber.inner(type, 'type specification')) };
    }
    case 'getNamedVariableListAttributes': {
      const deletable = ber.find(parts, ber.CONTEXT, 0);
      const list = ber.need(parts, ber.CONTEXT, 1, 'list of variables');
      return { service, deletable: deletable ? ber.decodeBool(deletable) : false, variables: ber.children(list).map(decodeVariable) };
    }
  }
}
