/**
 * Packs information objects of one type into as few ASDUs as fit: runs of
 * consecutive IOAs as SQ=1, the rest as SQ=0.
 */
import { Asdu, AsduSizes, InformationObject, maxObjects } from './asdu';
import type { TypeInfo } from './types';

export interface AsduHeader {
  cot: number;
  originator: number;
  commonAddress: number;
  test?: boolean;
}

/** Shortest run of consecutive IOAs worth an SQ=1 ASDU of its own. */
const MIN_SQ_RUN = 4;

export function packObjects(info: TypeInfo, objects: InformationObject[], header: AsduHeader, sizes: AsduSizes): Asdu[] {
  const sorted = [...objects].sort((a, b) => a.ioa - b.ioa);
  const out: Asdu[] = [];
  const make = (sq: boolean, objs: InformationObject[]): Asdu => ({
    typeId: info.id, sq, cot: header.cot, negative: false, test: !!header.test,
    originator: header.originator, commonAddress: header.commonAddress, objects: objs,
  });
  const maxSq = maxObjects(info, true, sizes);
  const maxSingle = maxObjects(info, false, sizes);
  let loose: InformationObject[] = [];
  const flushLoose = (): void => {
    for (let i = 0; i < loose.length; i += maxSingle) out.push(make(false, loose.slice(i, i + maxSingle)));
    loose = [];
  };
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j].ioa === sorted[j - 1].ioa + 1) j++;
    if (j - i >= MIN_SQ_RUN) {
      for (let k = i; k < j; k += maxSq) out.push(make(true, sorted.slice(k, Math.min(j, k + maxSq))));
    } else {
      loose.push(...sorted.slice(i, j));
    }
    i = j;
  }
  flushLoose();
  return out;
}
