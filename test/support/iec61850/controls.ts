/**
 * Control objects of the test server, as IEC 61850-7-2 clause 20 and 8-1 clause 20 describe them:
 * the four control models by CF ctlModel, select by reading SBO (normal security) or
 * writing SBOw (enhanced), select timeout (CF sboTimeout), Cancel, ctlNum checked
 * against the select, interlock check, and for enhanced security a CommandTermination
 * after execution. Refusals send LastApplError before the negative write response.
 */
import { encodeLastApplError } from '../../../nodes/lib/iec61850/control';
import { MmsValue, utcTimeFromMs } from '../../../nodes/lib/iec61850/mms-data';
import { TypeSpec } from '../../../nodes/lib/iec61850/mms-types';
import type { Peer } from './server';
import { ACCESS, VariableStore } from './store';

interface Selection {
  peer: Peer;
  ctlNum?: number;
  timer: NodeJS.Timeout;
}

interface Command {
  ctlVal: MmsValue;
  orCat: number;
  orIdent: Buffer;
  ctlNum: number;
  interlockCheck: boolean;
}

export const CAUSE = { blockedByProcess: 9, blockedByInterlocking: 10, notSelected: 18, alreadySelected: 19, inconsistent: 26 } as const;

export class ControlEngine {
  private readonly selections = new Map<string, Selection>();
  /** Objects (`LD/LN.DO`) whose interlocking blocks an operate with interlock check. */
  readonly interlocked = new Set<string>();
  /** Objects whose execution fails after the operate was accepted (enhanced: CommandTermination-), with the AddCause. */
  readonly failExecution = new Map<string, number>();
  /** Delay of the CommandTermination; Infinity never sends it. */
  terminationDelayMs = 5;
  /** Services received, for assertions: `SBOw ied1Inverter/GGIO2.SPCSO4 ctlNum 3`. */
  readonly log: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: VariableStore,
    private readonly setValue: (domain: string, item: string, value: MmsValue) => void,
  ) {}

  ctlModel(domain: string, ln: string, dataObject: string): number {
    const v = this.store.read(domain, `${ln}$CF$${dataObject}$ctlModel`);
    return typeof v !== 'number' && (v.type === 'integer' || v.type === 'unsigned') ? Number(v.value) : 0;
  }

  private sboTimeout(domain: string, ln: string, dataObject: string): number {
    const v = this.store.read(domain, `${ln}$CF$${dataObject}$sboTimeout`);
    return typeof v !== 'number' && v.type === 'unsigned' ? Number(v.value) : 30_000;
  }

  private select(key: string, peer: Peer, ms: number, ctlNum?: number): void {
    this.deselect(key);
    const timer = setTimeout(() => this.deselect(key), ms);
    this.selections.set(key, { peer, ctlNum, timer });
  }

  private deselect(key: string): void {
    const s = this.selections.get(key);
    if (s) clearTimeout(s.timer);
    this.selections.delete(key);
  }

  /** Reading SBO (sbo-with-normal-security): the object reference when selected, empty text when not. */
  readSbo(peer: Peer, domain: string, parts: string[]): MmsValue {
    const [ln, , dataObject] = parts;
    const key = `${domain}/${ln}.${dataObject}`;
    const held = this.selections.get(key);
    this.log.push(`SBO ${key}`);
    if (this.ctlModel(domain, ln, dataObject) !== 2 || (held && held.peer !== peer)) return { type: 'visible-string', value: '' };
    this.select(key, peer, this.sboTimeout(domain, ln, dataObject));
    return { type: 'visible-string', value: `${domain}/${ln}$CO$${dataObject}` };
  }

  /** A write of Oper, SBOw or Cancel; returns a DataAccessError code when refused. */
  write(peer: Peer, domain: string, parts: string[], value: MmsValue, type: TypeSpec | undefined): number | undefined {
    const [ln, , dataObject, service] = parts;
    const key = `${domain}/${ln}.${dataObject}`;
    const model = this.ctlModel(domain, ln, dataObject);
    const cmd = command(value, type);
    this.log.push(`${service} ${key} ctlNum ${cmd?.ctlNum}`);
    if (!cmd || model === 0) return ACCESS.denied;
    const refuse = (addCause: number): number => {
      peer.send({
        kind: 'information-report',
        report: {
          access: { kind: 'list', variables: [{ scope: 'vmd', item: 'LastApplError' }] },
          results: [{ ok: true, value: encodeLastApplError({ controlObject: `${domain}/${parts.join('$')}`, error: 1, orCat: cmd.orCat, orIdent: cmd.orIdent, ctlNum: cmd.ctlNum, addCause }) }],
        },
      });
      return ACCESS.denied;
    };
    const held = this.selections.get(key);
    if (service === 'SBOw') {
      if (model !== 4) return ACCESS.denied;
      if (held && held.peer !== peer) return refuse(CAUSE.alreadySelected);
      if (this.interlocked.has(key) && cmd.interlockCheck) return refuse(CAUSE.blockedByInterlocking);
      this.select(key, peer, this.sboTimeout(domain, ln, dataObject), cmd.ctlNum);
      return undefined;
    }
    if (service === 'Cancel') {
      if (!held || held.peer !== peer) return refuse(CAUSE.notSelected);
      this.deselect(key);
      return undefined;
    }
    if (service !== 'Oper') return ACCESS.denied;
    if (model === 2 || model === 4) {
      if (!held || held.peer !== peer) return refuse(CAUSE.notSelected);
      // Selected or not, the select is used up: a refused operate returns the object to unselected.
      this.deselect(key);
      if (model === 4 && held.ctlNum !== cmd.ctlNum) return refuse(CAUSE.inconsistent);
    }
    if (this.interlocked.has(key) && cmd.interlockCheck) return refuse(CAUSE.blockedByInterlocking);
    const failure = this.failExecution.get(key);
    if (failure === undefined) {
      this.setValue(domain, `${ln}$ST$${dataObject}$stVal`, cmd.ctlVal);
      this.store.set(domain, `${ln}$ST$${dataObject}$t`, { type: 'utc-time', value: utcTimeFromMs(Date.now()) });
    }
    if ((model === 3 || model === 4) && Number.isFinite(this.terminationDelayMs)) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const oper = { scope: 'domain' as const, domain, item: parts.join('$') };
        if (failure === undefined) {
          peer.send({ kind: 'information-report', report: { access: { kind: 'list', variables: [oper] }, results: [{ ok: true, value }] } });
          return;
        }
        const error = encodeLastApplError({ controlObject: `${domain}/${parts.join('$')}`, error: 1, orCat: cmd.orCat, orIdent: cmd.orIdent, ctlNum: cmd.ctlNum, addCause: failure });
        peer.send({
          kind: 'information-report',
          report: { access: { kind: 'list', variables: [{ scope: 'vmd', item: 'LastApplError' }, oper] }, results: [{ ok: true, value: error }, { ok: true, value }] },
        });
      }, this.terminationDelayMs);
      this.timers.add(timer);
    }
    return undefined;
  }

  isSelected(key: string): boolean {
    return this.selections.has(key);
  }

  release(peer: Peer): void {
    for (const [key, s] of this.selections) if (s.peer === peer) this.deselect(key);
  }

  stop(): void {
    for (const key of [...this.selections.keys()]) this.deselect(key);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** The fields of an Oper / SBOw / Cancel value, by component name. */
function command(value: MmsValue, type: TypeSpec | undefined): Command | undefined {
  if (value.type !== 'structure' || type?.type !== 'structure') return undefined;
  const field = (name: string): MmsValue | undefined => value.value[type.components.findIndex((c) => c.name === name)];
  const origin = field('origin');
  const or = origin?.type === 'structure' ? origin.value : [];
  const ctlNum = field('ctlNum');
  const check = field('Check');
  const ctlVal = field('ctlVal');
  if (!ctlVal || !ctlNum || (ctlNum.type !== 'unsigned' && ctlNum.type !== 'integer')) return undefined;
  return {
    ctlVal,
    orCat: or[0]?.type === 'integer' ? Number(or[0].value) : 0,
    orIdent: or[1]?.type === 'octet-string' ? or[1].value : Buffer.alloc(0),
    ctlNum: Number(ctlNum.value),
    interlockCheck: check?.type === 'bit-string' && check.value[1] === true,
  };
}
