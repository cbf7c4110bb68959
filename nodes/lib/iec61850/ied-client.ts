/**
 * IEC 61850 services over one MMS association: browse the model, read data
 * attributes and data sets by reference, write, enable unbuffered reports and
 * decode them as they arrive. Errors name the reference they concern.
 */
import { EventEmitter } from 'events';
import { DataAccessError, DecodeError, ServiceError } from './errors';
import { applyTypes, buildLogicalDevice, ModelNode } from './browse';
import { MmsValue } from './mms-data';
import { TypeSpec } from './mms-types';
import { selectType } from './alternate-access';
import { baseName, describeName, ObjectName, VariableAccess, VariableName } from './mms-names';
import { MmsConnection } from './mms-connection';
import { InformationReport } from './mms-pdu';
import { AccessResult, ConfirmedResponse, NameScope, OBJECT_CLASS } from './mms-services';
import {
  ControlBlockReference,
  controlBlockAttribute,
  DataReference,
  formatControlBlock,
  formatReference,
  ListReference,
  parseMmsListName,
  toObjectName,
} from './reference';
import { decodeReport, isReport, OPT, Report } from './report';

export type ReadOutcome = { reference: DataReference; ok: true; value: MmsValue } | { reference: DataReference; ok: false; error: Error };

export interface ReportOptions {
  /** TrgOps to write (data change, quality change, data update, integrity, GI); unchanged when absent. */
  triggers?: Partial<Record<'dataChange' | 'qualityChange' | 'dataUpdate' | 'integrity' | 'generalInterrogation', boolean>>;
  /** Integrity period to write (ms); unchanged when absent. */
  integrityPeriodMs?: number;
  /** Reserve the control block first (Resv = true), as some edition 2 IEDs require. */
  reserve?: boolean;
  /** Ask for a general interrogation once enabled. */
  generalInterrogation?: boolean;
  /** Data set to write to DatSet before enabling (MMS form `LD/LN$Name`), where the IED allows it. */
  dataSet?: string;
  /** Buffered blocks: the last EntryID delivered, to resume after. */
  resumeAfter?: Buffer;
}

export interface ReportSubscription {
  controlBlock: ControlBlockReference;
  /** RptID the reports carry (the RCB reference when the RCB leaves it empty). */
  rptId: string;
  dataSet: ListReference;
  members: VariableName[];
  memberTypes: (TypeSpec | undefined)[];
  /** Buffered blocks: true when the IED accepted the EntryID to resume after. */
  resumed?: boolean;
}

export interface IedClientOptions {
  /** Variables per Read request; larger lists are split. */
  maxVariablesPerRead: number;
}

export declare interface IedClient {
  on(event: 'report', listener: (report: Report) => void): this;
  on(event: 'warning', listener: (text: string) => void): this;
  on(event: 'information-report', listener: (report: InformationReport) => void): this;
}

export class IedClient extends EventEmitter {
  private readonly types = new Map<string, Promise<TypeSpec>>();
  /** RptID → the control block enabled with it on this association. */
  private readonly rptIds = new Map<string, string>();
  private readonly options: IedClientOptions;

  constructor(
    readonly connection: MmsConnection,
    options: Partial<IedClientOptions> = {},
  ) {
    super();
    this.options = { maxVariablesPerRead: 32, ...options };
    connection.on('report', (r) => this.onReport(r));
  }

  get ied(): string {
    return this.connection.ied;
  }

  async identify(): Promise<{ vendor: string; model: string; revision: string }> {
    const { vendor, model, revision } = expect(await this.connection.request({ service: 'identify' }), 'identify');
    return { vendor, model, revision };
  }

  logicalDevices(): Promise<string[]> {
    return this.nameList(OBJECT_CLASS.domain, { kind: 'vmd' }, 'logical devices');
  }

  variableNames(ld: string): Promise<string[]> {
    return this.nameList(OBJECT_CLASS.namedVariable, { kind: 'domain', domain: ld }, ld);
  }

  dataSetNames(ld: string): Promise<string[]> {
    return this.nameList(OBJECT_CLASS.namedVariableList, { kind: 'domain', domain: ld }, `${ld} data sets`);
  }

  /** GetNameList, following continueAfter until the IED says no more follow. */
  private async nameList(objectClass: number, scope: NameScope, subject: string): Promise<string[]> {
    const names: string[] = [];
    let continueAfter: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const r = expect(await this.connection.request({ service: 'getNameList', objectClass, scope, continueAfter }, subject), 'getNameList');
      names.push(...r.identifiers);
      if (!r.moreFollows) return names;
      const last = r.identifiers[r.identifiers.length - 1];
      if (last === undefined || last === continueAfter) {
        throw new DecodeError('mms', `${this.ied}: name list of ${subject} says more follow but makes no progress after "${continueAfter ?? ''}"`);
      }
      continueAfter = last;
    }
    throw new DecodeError('mms', `${this.ied}: name list of ${subject} did not end after 10000 pages`);
  }

  /** The MMS type of a variable (cached per association); with alternate access, the type of the part selected. */
  typeOf(name: VariableName): Promise<TypeSpec> {
    const base = baseName(name);
    const key = describeName(base);
    let t = this.types.get(key);
    if (!t) {
      t = this.connection.request({ service: 'getVariableAccessAttributes', name: base }, key).then((r) => expect(r, 'getVariableAccessAttributes').type);
      t.catch(() => this.types.delete(key));
      this.types.set(key, t);
    }
    if (!name.alternate?.length) return t;
    const steps = name.alternate;
    return t.then((whole) => {
      const part = selectType(whole, steps);
      if (!part) throw new RangeError(`${this.ied}: ${describeName(name)} does not fit the type of ${key}`);
      return part;
    });
  }

  typeOfReference(ref: DataReference): Promise<TypeSpec> {
    return this.typeOf(toObjectName(ref)).catch((err) => {
      throw renameError(err, formatReference(ref));
    });
  }

  /** Reads references in as few requests as the IED allows; one outcome per reference, in order. */
  async read(refs: DataReference[]): Promise<ReadOutcome[]> {
    const chunks: DataReference[][] = [];
    for (let i = 0; i < refs.length; i += this.options.maxVariablesPerRead) chunks.push(refs.slice(i, i + this.options.maxVariablesPerRead));
    const answers = await Promise.all(chunks.map((c) => this.readChunk(c)));
    return answers.flat();
  }

  private async readChunk(refs: DataReference[]): Promise<ReadOutcome[]> {
    const access: VariableAccess = { kind: 'list', variables: refs.map(toObjectName) };
    const subject = refs.length === 1 ? formatReference(refs[0]) : `${formatReference(refs[0])} (+${refs.length - 1})`;
    let results: AccessResult[];
    try {
      results = expect(await this.connection.request({ service: 'read', access }, subject), 'read').results;
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      return refs.map((reference) => ({ reference, ok: false, error: renameError(err, formatReference(reference)) }));
    }
    if (results.length !== refs.length) {
      throw new DecodeError('mms', `${this.ied}: read of ${refs.length} variables answered with ${results.length} results`);
    }
    return refs.map((reference, i): ReadOutcome => {
      const r = results[i];
      return r.ok ? { reference, ok: true, value: r.value } : { reference, ok: false, error: new DataAccessError(formatReference(reference), r.error, 'read') };
    });
  }

  /** Reads one reference; throws DataAccessError naming it when the IED refuses. */
  async readValue(ref: DataReference): Promise<MmsValue> {
    const [outcome] = await this.read([ref]);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  async dataSetDirectory(ds: ListReference): Promise<VariableName[]> {
    const subject = `${ds.ld}/${ds.item}`;
    const r = await this.connection.request({ service: 'getNamedVariableListAttributes', name: { scope: 'domain', domain: ds.ld, item: ds.item } }, subject);
    return expect(r, 'getNamedVariableListAttributes').variables;
  }

  /** Reads a data set; one result per member, in directory order. */
  async readDataSet(ds: ListReference): Promise<AccessResult[]> {
    const subject = `data set ${ds.ld}/${ds.item}`;
    const r = await this.connection.request(
      { service: 'read', specificationWithResult: true, access: { kind: 'named-list', name: { scope: 'domain', domain: ds.ld, item: ds.item } } },
      subject,
    );
    return expect(r, 'read').results;
  }

  async write(ref: DataReference, value: MmsValue): Promise<void> {
    const r = await this.connection.request(
      { service: 'write', access: { kind: 'list', variables: [toObjectName(ref)] }, values: [value] },
      formatReference(ref),
    );
    const [result] = expect(r, 'write').results;
    if (!result) throw new DecodeError('mms', `${this.ied}: write of ${formatReference(ref)} answered without a result`);
    if (!result.ok) throw new DataAccessError(formatReference(ref), result.error, 'write');
  }

  /** Writes several attributes of a control block in one request; throws naming the first refused one. */
  private async writeControlBlock(cb: ControlBlockReference, values: Array<[string, MmsValue]>): Promise<void> {
    const names = values.map(([attr]) => controlBlockAttribute(cb, attr));
    const r = await this.connection.request(
      { service: 'write', access: { kind: 'list', variables: names }, values: values.map(([, v]) => v) },
      formatControlBlock(cb),
    );
    const results = expect(r, 'write').results;
    results.forEach((res, i) => {
      if (!res.ok) throw new DataAccessError(`${cb.ld}/${cb.ln}.${cb.name}.${values[i][0]} [${cb.fc}]`, res.error, 'write');
    });
  }

  /**
   * Enables a report control block; reports then arrive as 'report' events.
   *
   * Buffered blocks (BR) ask for the EntryID in every report. With `resumeAfter`, that
   * EntryID is written before RptEna, so the IED sends only what came after it; when
   * the IED refuses it (the entry left its buffer), or when there is nothing to resume
   * from, the buffer is purged and a general interrogation asked for instead, so old
   * buffered contents never arrive as new.
   *
   * Two blocks of one IED may carry the same RptID (all instances of an indexed block
   * do); reports are told apart by RptID only, so a clash with a block already enabled
   * on this association is resolved by writing the block's own reference as RptID, or
   * refused with an error naming both blocks.
   */
  async enableReport(cb: ControlBlockReference, o: ReportOptions = {}): Promise<ReportSubscription> {
    const buffered = cb.fc === 'BR';
    const names = ['RptID', 'DatSet', ...(buffered ? ['OptFlds'] : [])];
    const head = expect(
      await this.connection.request({ service: 'read', access: { kind: 'list', variables: names.map((n) => controlBlockAttribute(cb, n)) } }, formatControlBlock(cb)),
      'read',
    ).results;
    const failed = head.findIndex((h) => !h.ok);
    if (failed >= 0) {
      const h = head[failed] as { ok: false; error: number };
      throw new DataAccessError(`${formatControlBlock(cb)} ${names[failed]}`, h.error, 'read');
    }
    const text = (r: AccessResult): string => (r.ok && (r.value.type === 'visible-string' || r.value.type === 'mms-string') ? r.value.value : '');
    const ownId = `${cb.ld}/${cb.ln}$${cb.fc}$${cb.name}`;
    let rptId = text(head[0]) || ownId;
    let dataSetText = text(head[1]);
    if (o.dataSet && o.dataSet !== dataSetText) {
      await this.writeControlBlock(cb, [['DatSet', { type: 'visible-string', value: o.dataSet }]]);
      dataSetText = o.dataSet;
    }
    const dataSet = parseMmsListName(dataSetText);
    if (!dataSet) throw new RangeError(`${this.ied}: ${formatControlBlock(cb)} has no data set (DatSet "${dataSetText}")`);
    const holder = this.rptIds.get(rptId);
    if (holder && holder !== formatControlBlock(cb)) {
      try {
        await this.writeControlBlock(cb, [['RptID', { type: 'visible-string', value: ownId }]]);
      } catch (err) {
        throw new Error(
          `${this.ied}: ${formatControlBlock(cb)} and ${holder} both report with RptID "${rptId}", so their reports cannot be told apart, and the IED refused a unique RptID for ${formatControlBlock(cb)} (${(err as Error).message}); use one of the two blocks`,
        );
      }
      rptId = ownId;
    }
    // Claimed now, in the same turn as the check, so two blocks enabled at once cannot both take one RptID.
    this.rptIds.set(rptId, formatControlBlock(cb));
    try {
      return await this.enableClaimed(cb, o, { rptId, dataSet, buffered, optFlds: head[2] });
    } catch (err) {
      if (this.rptIds.get(rptId) === formatControlBlock(cb)) this.rptIds.delete(rptId);
      throw err;
    }
  }

  private async enableClaimed(
    cb: ControlBlockReference,
    o: ReportOptions,
    h: { rptId: string; dataSet: ListReference; buffered: boolean; optFlds?: AccessResult },
  ): Promise<ReportSubscription> {
    const { rptId, dataSet, buffered } = h;
    const members = await this.dataSetDirectory(dataSet);
    const memberTypes = await Promise.all(members.map((m) => this.typeOf(m).catch(() => undefined)));
    if (o.reserve) await this.writeControlBlock(cb, [['Resv', { type: 'boolean', value: true }]]);
    const writes: Array<[string, MmsValue]> = [];
    if (o.triggers) {
      const t = o.triggers;
      writes.push(['TrgOps', { type: 'bit-string', value: [false, !!t.dataChange, !!t.qualityChange, !!t.dataUpdate, !!t.integrity, !!t.generalInterrogation] }]);
    }
    if (o.integrityPeriodMs !== undefined) writes.push(['IntgPd', { type: 'unsigned', value: o.integrityPeriodMs }]);
    let resumed = false;
    if (buffered) {
      const opt = h.optFlds?.ok && h.optFlds.value.type === 'bit-string' ? [...h.optFlds.value.value] : [];
      if (!opt[OPT.entryId]) {
        while (opt.length < 10) opt.push(false);
        opt[OPT.entryId] = true;
        writes.push(['OptFlds', { type: 'bit-string', value: opt }]);
      }
      if (writes.length) await this.writeControlBlock(cb, writes.splice(0));
      if (o.resumeAfter) {
        resumed = await this.writeControlBlock(cb, [['EntryID', { type: 'octet-string', value: o.resumeAfter }]]).then(
          () => true,
          (err: Error) => {
            if (!(err instanceof DataAccessError)) throw err;
            this.emit('warning', `${this.ied}: ${formatControlBlock(cb)} refused to resume after EntryID ${o.resumeAfter?.toString('hex')} (${err.message}); buffer purged, general interrogation asked for`);
            return false;
          },
        );
      }
      if (!resumed) await this.writeControlBlock(cb, [['PurgeBuf', { type: 'boolean', value: true }]]);
    }
    writes.push(['RptEna', { type: 'boolean', value: true }]);
    await this.writeControlBlock(cb, writes);
    if (o.generalInterrogation || (buffered && !resumed)) await this.writeControlBlock(cb, [['GI', { type: 'boolean', value: true }]]);
    return { controlBlock: cb, rptId, dataSet, members, memberTypes, resumed };
  }

  async disableReport(cb: ControlBlockReference): Promise<void> {
    for (const [id, holder] of this.rptIds) if (holder === formatControlBlock(cb)) this.rptIds.delete(id);
    await this.writeControlBlock(cb, [['RptEna', { type: 'boolean', value: false }]]);
  }

  /**
   * The whole model; with `types`, one GetVariableAccessAttributes per logical node adds
   * attribute types. A logical node whose type the IED cannot send (too large for the
   * negotiated PDU size, typically) is listed in `o.untyped` with the reason.
   */
  async browse(o: { types?: boolean; untyped?: string[] } = {}): Promise<ModelNode[]> {
    const lds = await this.logicalDevices();
    return Promise.all(
      lds.map(async (ld) => {
        const [variables, dataSets] = await Promise.all([this.variableNames(ld), this.dataSetNames(ld).catch(() => [] as string[])]);
        const tree = buildLogicalDevice(ld, variables, dataSets);
        if (o.types) {
          await Promise.all(
            (tree.children ?? []).map(async (ln) => {
              const type = await this.typeOf({ scope: 'domain', domain: ld, item: ln.name }).catch((err: Error) => {
                o.untyped?.push(`${ld}/${ln.name} (${err.message})`);
                return undefined;
              });
              if (type) applyTypes(ln, type);
            }),
          );
        }
        return tree;
      }),
    );
  }

  private onReport(r: InformationReport): void {
    if (!isReport(r)) {
      // Control answers (LastApplError, CommandTermination) and other unsolicited reports.
      this.emit('information-report', r);
      return;
    }
    try {
      this.emit('report', decodeReport(r));
    } catch (err) {
      this.emit('warning', `${this.ied}: report ignored: ${(err as Error).message}`);
    }
  }
}

function expect<S extends ConfirmedResponse['service']>(r: ConfirmedResponse, service: S): Extract<ConfirmedResponse, { service: S }> {
  if (r.service !== service) throw new DecodeError('mms', `${r.service} response to a ${service} request`);
  return r as Extract<ConfirmedResponse, { service: S }>;
}

/** A service error re-labelled with the reference it concerns. */
function renameError(err: unknown, reference: string): Error {
  return err instanceof ServiceError ? new ServiceError(err.service, err.errorClass, err.code, reference) : (err as Error);
}
