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
  ControlParameters,
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
  const run = new ControlRun(link, req);
  let ref: DataReference;
  try {
    ref = parseControlObject(req.object);
  } catch (err) {
    return run.fail((err as Error).message);
  }
  run.result.object = `${ref.ld}/${[ref.ln, ...ref.path].join('.')}`;
  // An association being opened right now (just after deploy) is worth waiting for.
  const client = link.state === 'connecting' ? await link.whenConnected(link.ied.timeoutMs * 3) : link.client;
  if (!client) return run.fail(link.describeOutage());
  run.listen(client, ref);
  try {
    return await run.execute(client, ref);
  } finally {
    run.stopListening(client);
  }
}

/** One command: its result so far, and the control answers (LastApplError, CommandTermination) seen meanwhile. */
class ControlRun {
  readonly result: ControlResult;
  private readonly started = Date.now();
  private readonly answers: ControlReport[] = [];
  private waiter?: () => void;
  private lost?: Error;
  private mmsPrefix = '';

  private readonly onReport = (r: InformationReport): void => {
    const c = decodeControlReport(r);
    const subject = c && (c.kind === 'last-appl-error' ? c.error.controlObject : c.controlObject);
    if (!c || !subject?.startsWith(this.mmsPrefix)) return;
    this.answers.push(c);
    this.waiter?.();
  };

  private readonly onLost = (err: Error): void => {
    this.lost = err;
    this.waiter?.();
  };

  constructor(
    private readonly link: IedLink,
    private readonly req: ControlRequest,
  ) {
    this.result = { ok: false, ied: link.name, object: req.object, steps: [], durationMs: 0 };
  }

  fail(why: string, lastApplError?: LastApplError): never {
    const r = this.result;
    r.error = `IED "${this.link.name}": control ${r.object}: ${why}${lastApplError ? `: ${describeLastApplError(lastApplError)}` : ''}`;
    if (lastApplError) {
      r.lastApplError = lastApplError;
      r.addCause = lastApplError.addCause;
      r.addCauseText = describeLastApplError(lastApplError).split(' (')[0];
    }
    r.durationMs = Date.now() - this.started;
    throw new ControlError(r);
  }

  listen(client: IedClient, ref: DataReference): void {
    this.mmsPrefix = `${ref.ld}/${[ref.ln, 'CO', ...ref.path].join('$')}$`;
    client.on('information-report', this.onReport);
    this.link.on('disconnected', this.onLost);
  }

  stopListening(client: IedClient): void {
    this.result.durationMs = Date.now() - this.started;
    client.off('information-report', this.onReport);
    this.link.off('disconnected', this.onLost);
  }

  async execute(client: IedClient, ref: DataReference): Promise<ControlResult> {
    const ctlModel = await this.readControlModel(client, ref);
    const service: ControlService = this.req.cancel ? 'Cancel' : 'Oper';
    const type = await client.typeOfReference(at(ref, 'CO', service)).catch((err: Error) => this.fail(`${service} not found: ${err.message}`));
    const params = this.parameters(client, type, service);
    const write = async (svc: ControlService): Promise<void> => {
      this.result.steps.push(svc);
      const svcType = svc === service ? type : await client.typeOfReference(at(ref, 'CO', svc));
      try {
        await client.write(at(ref, 'CO', svc), buildControlValue(svcType, params, svc));
      } catch (err) {
        if (this.lost) return this.fail(`association lost during ${svc}: ${this.lost.message}`);
        const refused = err instanceof DataAccessError ? `${svc} refused (${err.message.replace(/^write [^:]+: /, '')})` : `${svc} failed: ${(err as Error).message}`;
        return this.fail(refused, this.lastApplError(params.ctlNum));
      }
    };
    if (this.req.cancel) {
      await write('Cancel');
      this.result.ok = true;
      return this.result;
    }
    if (ctlModel === 'sbo-with-normal-security') await this.selectByRead(client, ref, params.ctlNum);
    if (ctlModel === 'sbo-with-enhanced-security') await write('SBOw');
    try {
      await write('Oper');
    } catch (err) {
      if (ctlModel.startsWith('sbo')) await this.cancelSelection(client, ref, params);
      throw err;
    }
    if (ctlModel.endsWith('enhanced-security')) await this.awaitTermination();
    this.result.ok = true;
    return this.result;
  }

  private async readControlModel(client: IedClient, ref: DataReference): Promise<ControlModel> {
    this.result.steps.push('read ctlModel');
    let model: number;
    try {
      const v = await client.readValue(at(ref, 'CF', 'ctlModel'));
      model = v.type === 'integer' || v.type === 'unsigned' ? Number(v.value) : NaN;
    } catch (err) {
      if (err instanceof DataAccessError && (err.code === 10 || err.code === 5)) return this.fail(`no such control object (${err.message})`);
      return this.fail(`ctlModel could not be read: ${(err as Error).message}`);
    }
    const ctlModel = controlModelOf(model);
    if (!ctlModel) return this.fail(`ctlModel ${model} is not a control model`);
    this.result.ctlModel = ctlModel;
    if (ctlModel === 'status-only') return this.fail('the object is status-only (ctlModel 0) and cannot be controlled');
    return ctlModel;
  }

  /** ctlVal converted to the object's ctlVal type, and the rest of Oper; takes the next ctlNum. */
  private parameters(client: IedClient, type: TypeSpec, service: ControlService): ControlParameters {
    const ctlValType = type.type === 'structure' ? type.components.find((c) => c.name === 'ctlVal')?.spec : undefined;
    if (!ctlValType) return this.fail(`${service} has no ctlVal`);
    let ctlVal: MmsValue;
    try {
      ctlVal = fromPointValue(ctlValType, this.req.value, `${this.result.object} ctlVal`);
    } catch (err) {
      return this.fail(`ctlVal ${JSON.stringify(this.req.value)} does not fit (${(err as Error).message.replace(/^write [^:]+: /, '')})`);
    }
    const ctlNum = nextCtlNum(client);
    this.result.ctlNum = ctlNum;
    return {
      ctlVal,
      orCat: this.req.orCat,
      orIdent: Buffer.from(this.req.orIdent, 'utf8'),
      ctlNum,
      time: commandTime(Date.now()),
      test: this.req.test,
      interlockCheck: this.req.interlockCheck,
      synchroCheck: this.req.synchroCheck,
    };
  }

  /** sbo-with-normal-security: reading SBO selects; an empty answer is a refusal. */
  private async selectByRead(client: IedClient, ref: DataReference, ctlNum: number): Promise<void> {
    this.result.steps.push('read SBO');
    const selected = await client.readValue(at(ref, 'CO', 'SBO')).catch((err: Error) => this.fail(`select failed: ${err.message}`));
    if (selected.type !== 'visible-string' || !selected.value) this.fail('select refused (SBO read empty)', this.lastApplError(ctlNum));
  }

  // Best effort, and without touching the error: the refusal of Oper is what the caller needs to see.
  private async cancelSelection(client: IedClient, ref: DataReference, params: ControlParameters): Promise<void> {
    if (this.lost) return;
    this.result.steps.push('Cancel');
    const t = await client.typeOfReference(at(ref, 'CO', 'Cancel')).catch(() => undefined);
    if (t) await client.write(at(ref, 'CO', 'Cancel'), buildControlValue(t, params, 'Cancel')).catch(() => undefined);
  }

  private async awaitTermination(): Promise<void> {
    const termination = await new Promise<ControlReport | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.req.terminationTimeoutMs);
      this.waiter = () => {
        const t = this.answers.find((a) => a.kind === 'command-termination');
        if (t || this.lost) {
          clearTimeout(timer);
          resolve(t);
        }
      };
      this.waiter();
    });
    this.waiter = undefined;
    if (!termination || termination.kind !== 'command-termination') {
      if (this.lost) this.fail(`association lost before the CommandTermination: ${this.lost.message}`);
      this.fail(`no CommandTermination within ${this.req.terminationTimeoutMs} ms`);
    }
    this.result.steps.push(termination.positive ? 'CommandTermination+' : 'CommandTermination-');
    if (!termination.positive) this.fail('CommandTermination negative', termination.error);
  }

  private lastApplError(ctlNum: number): LastApplError | undefined {
    for (let i = this.answers.length - 1; i >= 0; i--) {
      const a = this.answers[i];
      if (a.kind === 'last-appl-error' && a.error.ctlNum === ctlNum) return a.error;
    }
    return undefined;
  }
}

/** What a control would send, for test mode (nothing is sent). */
export function describeDryRun(req: ControlRequest): string {
  const checks = [req.interlockCheck ? 'interlock check' : '', req.synchroCheck ? 'synchrocheck' : ''].filter(Boolean).join(', ');
  const what = req.cancel ? 'Cancel' : `operate with ctlVal ${JSON.stringify(req.value)}`;
  return `test mode: would ${what} on ${req.object} (sequence by the ctlModel read then), orCat ${req.orCat}, orIdent "${req.orIdent}", Test ${req.test}${checks ? `, ${checks}` : ''}; nothing sent`;
}

