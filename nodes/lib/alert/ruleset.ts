/**
 * Gathers the rules of one alert node from its three sources (dialog rows,
 * YAML typed in the dialog, a YAML file) into one validated set.
 */
import fs from 'fs';
import { SpecSource, validateRules, RuleSet } from './rules';
import { specsFromYaml } from './yaml';
import type { RuleProblem } from './types';

export interface RuleSources {
  /** Rows of the dialog's rule list. */
  rules?: unknown[];
  /** YAML typed in the dialog (or sent in a message). */
  yaml?: string;
  /** Path of a YAML rules file. */
  file?: string;
}

export function buildRuleSet(sources: RuleSources): RuleSet {
  const specs: SpecSource[] = (sources.rules ?? []).map((spec, i) => ({ spec, source: `dialog rule ${i + 1}` }));
  const problems: RuleProblem[] = [];
  if (sources.yaml) {
    const y = specsFromYaml(sources.yaml, 'YAML rules');
    specs.push(...y.specs);
    problems.push(...y.problems);
  }
  if (sources.file) {
    try {
      const y = specsFromYaml(fs.readFileSync(sources.file, 'utf8'), sources.file);
      specs.push(...y.specs);
      problems.push(...y.problems);
    } catch (err) {
      problems.push({ level: 'error', rule: sources.file, source: sources.file, message: `cannot read rules file ${sources.file}: ${(err as Error).message}` });
    }
  }
  const set = validateRules(specs);
  return { rules: set.rules, problems: [...problems, ...set.problems] };
}
