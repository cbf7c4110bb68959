/** Parses never-read ranges as integrators type them: "holding:100-119, input:5000". */
import { REGISTER_TYPES, RegisterRange, RegisterType } from './types';

export function parseRanges(text: string, context: string): { ranges: RegisterRange[]; errors: string[] } {
  const ranges: RegisterRange[] = [];
  const errors: string[] = [];
  for (const part of String(text ?? '').split(/[,;\n]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*:\s*(\d+)(?:\s*-\s*(\d+))?$/i.exec(part);
    const type = m?.[1].toLowerCase() as RegisterType | undefined;
    if (!m || !type || !REGISTER_TYPES.includes(type)) {
      errors.push(`${context}: never-read range "${part}" is not <holding|input|coil|discrete>:<from>[-<to>]`);
      continue;
    }
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (from > 65535 || to > 65535 || to < from) {
      errors.push(`${context}: never-read range "${part}" must have 0 <= from <= to <= 65535`);
      continue;
    }
    ranges.push({ registerType: type, address: from, quantity: to - from + 1 });
  }
  return { ranges, errors };
}
