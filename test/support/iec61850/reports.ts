/**
 * Report control blocks of the test server: enable / disable by writing RptEna,
 * integrity reports every IntgPd while enabled, a GI report when GI is written,
 * data-change reports when the test changes a data set member.
 *
 * Buffered blocks (BR) as IEC 61850-7-2 describes them: once enabled, every report
 * is an entry with an EntryID (8 octets) kept in a buffer, also while the block is
 * disabled or its client gone. Writing EntryID (before RptEna) resumes after that
 * entry, and is refused when the entry is no longer buffered; PurgeBuf empties the
 * buffer; enabling without an EntryID sends everything buffered first.
 */
import { binaryTimeFromMs, MmsValue } from '../../../nodes/lib/iec61850/mms-data';
import { OPT, TRIGGER } from '../../../nodes/lib/iec61850/report';
import { AccessResult } from '../../../nodes/lib/iec61850/mms-services';
import { describeName, VariableName } from '../../../nodes/lib/iec61850/mms-names';
import type { Peer } from './server';
import { ACCESS, VariableStore } from './store';

interface Entry {
  id: Buffer;
  results: AccessResult[];
}

interface ControlBlockState {
  owner?: Peer;
  timer?: NodeJS.Timeout;
  /** BR: buffering since first enabled. */
  buffering?: boolean;
  buffer?: Entry[];
  /** BR: the EntryID written before RptEna (all zeros = from the start). */
  resumeAfter?: Buffer;
}

/** Entries a buffered block keeps; older ones are dropped (BufOvfl). */
export const BUFFER_ENTRIES = 64;
const NO_ENTRY = Buffer.alloc(8);

const CONFIG = new Set(['TrgOps', 'IntgPd', 'DatSet', 'OptFlds', 'BufTm', 'RptID', 'EntryID', 'PurgeBuf']);
const READ_ONLY = new Set(['ConfRev', 'SqNum']);

export class ReportEngine {
  private readonly blocks = new Map<string, ControlBlockState>();
  /** Reports sent, for assertions. */
  sent = 0;
  private nextEntry = 1;
  /** Fault: on resume, send the entry named by EntryID again (a server off by one). */
  repeatResumedEntry = false;
  /** Control block attributes this server does not let clients write (RptID, DatSet...). */
  readonly fixedAttributes = new Set<string>();

  constructor(private readonly store: VariableStore) {}

  private state(key: string): ControlBlockState {
    let s = this.blocks.get(key);
    if (!s) this.blocks.set(key, (s = {}));
    return s;
  }

  private attr<T extends MmsValue['type']>(domain: string, base: string, name: string, type: T): Extract<MmsValue, { type: T }> | undefined {
    const v = this.store.read(domain, `${base}$${name}`);
    return typeof v !== 'number' && v.type === type ? (v as Extract<MmsValue, { type: T }>) : undefined;
  }

  /** Returns a DataAccessError code when the write must be refused. */
  beforeWrite(peer: Peer, domain: string, parts: string[], value: MmsValue): number | undefined {
    if (parts.length !== 4) return ACCESS.denied;
    const s = this.state(`${domain}/${parts.slice(0, 3).join('$')}`);
    if (s.owner && s.owner !== peer) return ACCESS.denied;
    if (READ_ONLY.has(parts[3]) || this.fixedAttributes.has(parts[3])) return ACCESS.denied;
    if (s.owner && CONFIG.has(parts[3])) return 2;
    if (parts[3] === 'GI' && value.type === 'boolean' && value.value && !s.owner) return 2;
    if (parts[3] === 'DatSet' && value.type === 'visible-string') {
      const [dsDomain, dsItem] = value.value.split('/');
      if (!this.store.model.get(dsDomain)?.dataSets.has(dsItem)) return 11;
    }
    if (parts[3] === 'EntryID' && value.type === 'octet-string' && !value.value.equals(NO_ENTRY)) {
      // 7-2: an EntryID that is not in the buffer is refused.
      if (!s.buffer?.some((e) => e.id.equals(value.value))) return 11;
    }
    return undefined;
  }

  afterWrite(peer: Peer, domain: string, parts: string[], value: MmsValue): void {
    const base = parts.slice(0, 3).join('$');
    const key = `${domain}/${base}`;
    const s = this.state(key);
    if (parts[3] === 'EntryID' && value.type === 'octet-string') s.resumeAfter = value.value;
    if (parts[3] === 'PurgeBuf' && value.type === 'boolean' && value.value) {
      s.buffer = [];
      this.store.set(domain, `${base}$PurgeBuf`, { type: 'boolean', value: false });
    }
    if (parts[3] === 'RptEna' && value.type === 'boolean') {
      clearInterval(s.timer);
      s.timer = undefined;
      s.owner = value.value ? peer : undefined;
      if (!value.value) return;
      if (parts[1] === 'BR') this.resume(s);
      const trg = this.attr(domain, base, 'TrgOps', 'bit-string')?.value ?? [];
      const period = Number(this.attr(domain, base, 'IntgPd', 'unsigned')?.value ?? 0);
      if (trg[TRIGGER.integrity] && period > 0) {
        s.timer = setInterval(() => this.send(domain, base, 'integrity'), period);
        s.timer.unref();
      }
    } else if (parts[3] === 'GI' && value.type === 'boolean' && value.value) {
      this.store.set(domain, `${base}$GI`, { type: 'boolean', value: false });
      setImmediate(() => this.send(domain, base, 'general-interrogation'));
    }
  }

  /** BR enabled: buffered entries after the written EntryID (all when none), then live reports. */
  private resume(s: ControlBlockState): void {
    const owner = s.owner as Peer;
    const buffer = s.buffer ?? [];
    let from = 0;
    if (s.resumeAfter && !s.resumeAfter.equals(NO_ENTRY)) {
      const at = buffer.findIndex((e) => e.id.equals(s.resumeAfter as Buffer));
      from = this.repeatResumedEntry ? at : at + 1;
    }
    s.resumeAfter = undefined;
    s.buffering = true;
    s.buffer = buffer;
    for (const e of buffer.slice(from)) {
      this.sent++;
      owner.send({ kind: 'information-report', report: { access: { kind: 'named-list', name: { scope: 'vmd', item: 'RPT' } }, results: e.results } });
    }
  }

  /** Entries a buffered block holds now (EntryIDs, hex), for assertions. */
  buffered(domain: string, base: string): string[] {
    return (this.blocks.get(`${domain}/${base}`)?.buffer ?? []).map((e) => e.id.toString('hex'));
  }

  /** Leaf keys changed by the process: data-change reports for enabled blocks whose data set holds them. */
  changed(keys: string[]): void {
    for (const [key, s] of this.blocks) {
      if (!s.owner && !s.buffering) continue;
      const [domain, base] = key.split('/');
      if (!this.attr(domain, base, 'TrgOps', 'bit-string')?.value[TRIGGER.dataChange]) continue;
      const members = this.members(domain, base);
      const hit = members.flatMap((m, i) => (m.scope === 'domain' && this.store.leafKeys(m.domain, m.item).some((k) => keys.includes(k)) ? [i] : []));
      if (hit.length) this.send(domain, base, 'data-change', hit);
    }
  }

  release(peer: Peer): void {
    for (const s of this.blocks.values()) {
      if (s.owner !== peer) continue;
      clearInterval(s.timer);
      s.timer = undefined;
      s.owner = undefined;
    }
  }

  stop(): void {
    for (const s of this.blocks.values()) clearInterval(s.timer);
    this.blocks.clear();
  }

  private members(domain: string, base: string): VariableName[] {
    const dataSet = this.attr(domain, base, 'DatSet', 'visible-string')?.value ?? '';
    const [dsDomain, dsItem] = dataSet.split('/');
    return this.store.model.get(dsDomain)?.dataSets.get(dsItem) ?? [];
  }

  private send(domain: string, base: string, reason: 'integrity' | 'general-interrogation' | 'data-change', only?: number[]): void {
    const s = this.blocks.get(`${domain}/${base}`);
    if (!s?.owner && !s?.buffering) return;
    const members = this.members(domain, base);
    const included = only ?? members.map((_, i) => i);
    const opt = this.attr(domain, base, 'OptFlds', 'bit-string')?.value ?? [];
    const sqNum = Number(this.attr(domain, base, 'SqNum', 'unsigned')?.value ?? 0);
    this.store.set(domain, `${base}$SqNum`, { type: 'unsigned', value: (sqNum + 1) % 256 });
    const rptId = this.attr(domain, base, 'RptID', 'visible-string')?.value || `${domain}/${base}`;
    const ok = (value: MmsValue): AccessResult => ({ ok: true, value });
    const results: AccessResult[] = [ok({ type: 'visible-string', value: rptId }), ok({ type: 'bit-string', value: opt })];
    if (opt[OPT.sequenceNumber]) results.push(ok({ type: 'unsigned', value: sqNum }));
    if (opt[OPT.reportTimeStamp]) results.push(ok({ type: 'binary-time', value: binaryTimeFromMs(Date.now()) }));
    if (opt[OPT.dataSetName]) results.push(ok(this.attr(domain, base, 'DatSet', 'visible-string') as MmsValue));
    const buffered = base.split('$')[1] === 'BR';
    const entryId = Buffer.alloc(8);
    if (buffered) entryId.writeBigUInt64BE(BigInt(this.nextEntry++));
    if (opt[OPT.bufferOverflow]) results.push(ok({ type: 'boolean', value: false }));
    if (opt[OPT.entryId] && buffered) results.push(ok({ type: 'octet-string', value: entryId }));
    if (opt[OPT.confRevision]) results.push(ok(this.attr(domain, base, 'ConfRev', 'unsigned') as MmsValue));
    results.push(ok({ type: 'bit-string', value: members.map((_, i) => included.includes(i)) }));
    if (opt[OPT.dataReference]) included.forEach((i) => results.push(ok({ type: 'visible-string', value: describeName(members[i]) })));
    for (const i of included) {
      const v = this.store.readVariable(members[i]);
      results.push(typeof v === 'number' ? { ok: false, error: v } : ok(v));
    }
    const bit = { 'data-change': TRIGGER.dataChange, integrity: TRIGGER.integrity, 'general-interrogation': TRIGGER.generalInterrogation }[reason];
    if (opt[OPT.reasonForInclusion]) included.forEach(() => results.push(ok({ type: 'bit-string', value: [0, 1, 2, 3, 4, 5].map((b) => b === bit) })));
    if (buffered) {
      s.buffer = [...(s.buffer ?? []), { id: entryId, results }].slice(-BUFFER_ENTRIES);
      this.store.set(domain, `${base}$EntryID`, { type: 'octet-string', value: entryId });
    }
    if (!s.owner) return;
    this.sent++;
    s.owner.send({ kind: 'information-report', report: { access: { kind: 'named-list', name: { scope: 'vmd', item: 'RPT' } }, results } });
  }
}
