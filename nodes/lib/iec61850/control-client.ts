/**
 * Operates one IEC 61850 control object over an IED link, in the sequence its
 * ctlModel asks for (IEC 61850-7-2 clause 20):
 *
 *   direct-with-normal-security     write Oper
 *   sbo-with-normal-security        read SBO (select), write Oper
 *   direct-with-enhanced-security   write Oper, wait for CommandTermination
 *   sbo-with-enhanced-security      write SBOw, write Oper, wait for CommandTermination
 *
 * A refusal is explained by the LastApplError the IED sends with it. After a select,
 * a failed operate is cancelled, so the object is not left selected by this client.
 */
import { DataAccessError } from './errors';
import { IedClient } from './ied-client';
import { IedLink } from './ied-link';
import {
  buildControlValue,
  commandTime,
  ControlModel,
  controlModelOf,
  ControlReport,
  ControlService,
  decodeControlReport,
  describeLastApplError,
  LastApplError,
} from './control';
import { MmsValue } from './mms-data';
import { TypeSpec } from './mms-types';
import { InformationReport } from './mms-pdu';
import { DataReference, parseReference } from './reference';
import { fromPointValue } from './values';

export interface ControlRequest {
  /** The control object, `LD/LN.DO` (FC CO implied). */
  object: string;
  /** ctlVal: true/false, a number, or text for the object's ctlVal type. */
  value: unknown;
  orCat: number;
  orIdent: string;
  test: boolean;
  interlockCheck: boolean;
  synchroCheck: boolean;
  /** How long to wait for the CommandTermination of enhanced security. */
  terminationTimeoutMs: number;
  /** Cancel a selection instead of operating. */
  cancel?: boolean;
}

export interface ControlResult {
  ok: boolean;
  ied: string;
  /** `LD/LN.DO`. */
  object: string;
  ctlModel?: ControlModel;
  ctlNum?: number;
  /** The services used, in order: `read ctlModel`, `SBOw`, `Oper`, `CommandTermination+`... */
  steps: string[];
  addCause?: number;
  addCauseText?: string;
  lastApplError?: LastApplError;
  error?: string;
  durationMs: number;
}

/** A control that did not succeed; `result` says how far it got and why. */
export class ControlError extends Error {
  constructor(readonly result: ControlResult) {
    super(result.error);
    this.name = 'ControlError';
  }
}

/** The control object of `LD/LN.DO` (or `LD/LN.DO [CO]`). */
export function parseControlObject(text: string): DataReference {
  const raw = String(text ?? '').trim();
  const ref = parseReference(/\[\s*[A-Za-z]{2}\s*\]\s*$/.test(raw) ? raw : `${raw} [CO]`);
  if (ref.fc !== 'CO') throw new RangeError(`control object "${raw}" must have FC CO (or none), not ${ref.fc}`);
  if (!ref.path.length) throw new RangeError(`control object "${raw}" names no data object; expected LD/LN.DO, e.g. simpleIOGenericIO/GGIO1.SPCSO1`);
  return ref;
}

const at = (ref: DataReference, fc: DataReference['fc'], ...attr: string[]): DataReference => ({ ...ref, fc, path: [...ref.path, ...attr] });

/** ctlNum per association: 0..255, incremented per command. */
const counters = new WeakMap<IedClient, number>();

function nextCtlNum(client: IedClient): number {
  const n = ((counters.get(client) ?? -1) + 1) % 256;
  counters.set(client, n);
  return n;
}

export async function operate(link: IedLink, req: ControlRequest): Promise<ControlResult> {
  const started = Date.now();
  const result: ControlResult = { ok: false, ied: link.name, object: req.object, steps: [], durationMs: 0 };
  const fail = (why: string, lastApplError?: LastApplError): never => {
    result.error = `IED "${link.name}": control ${result.object}: ${why}${lastApplError ? `: ${describeLastApplError(lastApplError)}` : ''}`;
    if (lastApplError) {
      result.lastApplError = lastApplError;
      result.addCause = lastApplError.addCause;
      result.addCauseText = describeLastApplError(lastApplError).split(' (')[0];
    }
    result.durationMs = Date.now() - started;
    throw new ControlError(result);
  };
  let ref: DataReference;
  try {
    ref = parseControlObject(req.object);
  } catch (err) {
    return fail((err as Error).message);
  }
  result.object = `${ref.ld}/${[ref.ln, ...ref.path].join('.')}`;
  // An association being opened right now (just after deploy) is worth waiting for.
  const client = link.state === 'connecting' ? await link.whenConnected(link.ied.timeoutMs * 3) : link.client;
  if (!client) return fail(link.describeOutage());
  const mmsPrefix = `${ref.ld}/${[ref.ln, 'CO', ...ref.path].join('$')}$`;
  const answers: ControlReport[] = [];
  let waiter: (() => void) | undefined;
  const onReport = (r: InformationReport): void => {
    const c = decodeControlReport(r);
    const subject = c && (c.kind === 'last-appl-error' ? c.error.controlObject : c.controlObject);
    if (!c || !subject?.startsWith(mmsPrefix)) return;
    answers.push(c);
    waiter?.();
  };
  let lost: Error | undefined;
  const onLost = (err: Error): void => {
    lost = err;
    waiter?.();
  };
  client.on('information-report', onReport);
  link.on('disconnected', onLost);
  const lastError = (ctlNum: number): LastApplError | undefined => {
    for (let i = answers.length - 1; i >= 0; i--) {
      const a = answers[i];
      if (a.kind === 'last-appl-error' && a.error.ctlNum === ctlNum) return a.error;
    }
    return undefined;
  };
  try {
    result.steps.push('read ctlModel');
    let model: number;
    try {
      const v = await client.readValue(at(ref, 'CF', 'ctlModel'));
      model = v.type === 'integer' || v.type === 'unsigned' ? Number(v.value) : NaN;
    } catch (err) {
      if (err instanceof DataAccessError && (err.code === 10 || err.code === 5)) return fail(`no such control object (${err.message})`);
      return fail(`ctlModel could not be read: ${(err as Error).message}`);
    }
    const ctlModel = controlModelOf(model);
    if (!ctlModel) return fail(`ctlModel ${model} is not a control model`);
    result.ctlModel = ctlModel;
    if (ctlModel === 'status-only') return fail('the object is status-only (ctlModel 0) and cannot be controlled');
    const service: ControlService = req.cancel ? 'Cancel' : 'Oper';
    const type = await client.typeOfReference(at(ref, 'CO', service)).catch((err: Error) => fail(`${service} not found: ${err.message}`));
    const ctlValType = type.type === 'structure' ? type.components.find((c) => c.name === 'ctlVal')?.spec : undefined;
    if (!ctlValType) return fail(`${service} has no ctlVal`);
    let ctlVal: MmsValue;
    try {
      ctlVal = fromPointValue(ctlValType as TypeSpec, req.value, `${result.object} ctlVal`);
    } catch (err) {
      return fail(`ctlVal ${JSON.stringify(req.value)} does not fit (${(err as Error).message.replace(/^write [^:]+: /, '')})`);
    }
    const ctlNum = nextCtlNum(client);
    result.ctlNum = ctlNum;
    const params = {
      ctlVal,
      orCat: req.orCat,
      orIdent: Buffer.from(req.orIdent, 'utf8'),
      ctlNum,
      time: commandTime(Date.now()),
      test: req.test,
      interlockCheck: req.interlockCheck,
      synchroCheck: req.synchroCheck,
    };
    const write = async (svc: ControlService): Promise<void> => {
      result.steps.push(svc);
      const svcType = svc === service ? type : await client.typeOfReference(at(ref, 'CO', svc));
      try {
        await client.write(at(ref, 'CO', svc), buildControlValue(svcType, params, svc));
      } catch (err) {
        if (lost) return fail(`association lost during ${svc}: ${lost.message}`);
        const refused = err instanceof DataAccessError ? `${svc} refused (${err.message.replace(/^write [^:]+: /, '')})` : `${svc} failed: ${(err as Error).message}`;
        return fail(refused, lastError(ctlNum));
      }
    };
    // Best effort, and without touching the result: the refusal of Oper is what the caller needs to see.
    const cancelSelection = async (): Promise<void> => {
      if (lost) return;
      result.steps.push('Cancel');
      const t = await client.typeOfReference(at(ref, 'CO', 'Cancel')).catch(() => undefined);
      if (t) await client.write(at(ref, 'CO', 'Cancel'), buildControlValue(t, params, 'Cancel')).catch(() => undefined);
    };
    if (req.cancel) {
      await write('Cancel');
      result.ok = true;
      return result;
    }
    if (ctlModel === 'sbo-with-normal-security') {
      result.steps.push('read SBO');
      const selected = await client.readValue(at(ref, 'CO', 'SBO')).catch((err: Error) => fail(`select failed: ${err.message}`));
      if (selected.type !== 'visible-string' || !selected.value) return fail('select refused (SBO read empty)', lastError(ctlNum));
    }
    if (ctlModel === 'sbo-with-enhanced-security') await write('SBOw');
    const sbo = ctlModel.startsWith('sbo');
    try {
      await write('Oper');
    } catch (err) {
      if (sbo) await cancelSelection();
      throw err;
    }
    if (ctlModel.endsWith('enhanced-security')) {
      const termination = await new Promise<ControlReport | undefined>((resolve) => {
        const find = (): ControlReport | undefined => answers.find((a) => a.kind === 'command-termination');
        const timer = setTimeout(() => resolve(undefined), req.terminationTimeoutMs);
        waiter = () => {
          const t = find();
          if (t || lost) {
            clearTimeout(timer);
            resolve(t);
          }
        };
        waiter();
      });
      waiter = undefined;
      if (!termination || termination.kind !== 'command-termination') {
        if (lost) return fail(`association lost before the CommandTermination: ${lost.message}`);
        return fail(`no CommandTermination within ${req.terminationTimeoutMs} ms`);
      }
      result.steps.push(termination.positive ? 'CommandTermination+' : 'CommandTermination-');
      if (!termination.positive) return fail('CommandTermination negative', termination.error);
    }
    result.ok = true;
    return result;
  } finally {
    result.durationMs = Date.now() - started;
    client.off('information-report', onReport);
    link.off('disconnected', onLost);
  }
}

/** What a control would send, for test mode (nothing is sent). */
export function describeDryRun(req: ControlRequest): string {
  const checks = [req.interlockCheck ? 'interlock check' : '', req.synchroCheck ? 'synchrocheck' : ''].filter(Boolean).join(', ');
  const what = req.cancel ? 'Cancel' : `operate with ctlVal ${JSON.stringify(req.value)}`;
  return `test mode: would ${what} on ${req.object} (sequence by the ctlModel read then), orCat ${req.orCat}, orIdent "${req.orIdent}", Test ${req.test}${checks ? `, ${checks}` : ''}; nothing sent`;
}

