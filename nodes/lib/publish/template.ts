/**
 * Topic templates (`site/{device}/measurements`) and the payload template of the HTTP
 * publisher (`{"meter": {{device}}, "p": {{values.power_total}}}`).
 */
import { own } from '../own';

export interface TopicFields {
  device: string;
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  point?: string;
}

const TOPIC_FIELDS = new Set(['device', 'line', 'model', 'profile', 'unitId', 'point']);

/** Wildcards and separators in a name would change the topic's meaning; they are replaced. */
function topicSafe(value: string): string {
  return value.replace(/[+#/\u0000]/g, '_');
}

/** Checks a topic template; returns the problem, or undefined when it is fine. */
export function topicTemplateProblem(template: string, perPoint: boolean): string | undefined {
  if (!template.trim()) return 'the topic template is empty';
  if (/[+#]/.test(template)) return `topic template "${template}" contains the wildcard + or #, which cannot be published to`;
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!TOPIC_FIELDS.has(m[1])) return `topic template "${template}": unknown field {${m[1]}}; use {device}, {line}, {model}, {profile}, {unitId} or {point}`;
  }
  if (perPoint && !template.includes('{point}')) return `topic template "${template}" needs {point} when publishing one message per point`;
  return undefined;
}

export function renderTopic(template: string, fields: TopicFields): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = own(fields as unknown as Record<string, unknown>, name);
    return v === undefined || v === null || v === '' ? '_' : topicSafe(String(v));
  });
}

function lookup(context: Record<string, unknown>, path: string): unknown {
  let v: unknown = context;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = own(v as Record<string, unknown>, key);
  }
  return v;
}

/**
 * Renders a payload template: `{{path}}` becomes the JSON of the value (strings quoted,
 * objects as JSON, missing as null); `{{{path}}}` becomes the bare text, for use inside a
 * JSON string (it is escaped as JSON string content).
 */
export function renderPayloadTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(/\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}/g, (_, raw: string | undefined, json: string | undefined) => {
    if (raw) {
      const v = lookup(context, raw);
      const text = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return JSON.stringify(text).slice(1, -1);
    }
    const v = lookup(context, json as string);
    return JSON.stringify(v === undefined ? null : v);
  });
}
