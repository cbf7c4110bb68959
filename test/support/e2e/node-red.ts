/**
 * A real Node-RED process on 127.0.0.1 and an ephemeral port: Node-RED 4 from
 * its command line, Node-RED 5 embedded (scripts/e2e-embedded-red.js). The
 * admin API deploys flows the way the editor's Deploy button does.
 */
import path from 'path';
import { Child, start } from './processes';
import { repoRoot } from './install';

export type NodeRedVersion = 4 | 5;

export interface RunningNodeRed {
  version: NodeRedVersion;
  url: string;
  child: Child;
  /** Output since start: the runtime log. */
  log(): string;
  stop(): Promise<void>;
}

export async function startNodeRed(version: NodeRedVersion, userDir: string, settingsFile: string, timeoutMs = 30000): Promise<RunningNodeRed> {
  const args =
    version === 4
      ? [path.join(repoRoot, 'node_modules', 'node-red-4', 'red.js'), '--userDir', userDir, '--settings', settingsFile, '--port', '0']
      : [path.join(repoRoot, 'scripts', 'e2e-embedded-red.js'), '--userDir', userDir, '--settings', settingsFile, '--port', '0'];
  const child = start(`Node-RED ${version}`, process.execPath, args, { cwd: userDir });
  try {
    const m = await child.waitFor(/Server now running at (http:\/\/127\.0\.0\.1:\d+)\//, timeoutMs);
    return { version, url: m[1], child, log: () => child.output(), stop: () => child.stop() };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), init.timeoutMs ?? 15000);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** A full deploy through the admin API (what Deploy does in the editor); resolves with the new revision. */
export async function deployFlows(red: RunningNodeRed, flows: FlowNode[]): Promise<string> {
  const res = await request(`${red.url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /flows answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { rev: string }).rev;
}

export async function getFlows(red: RunningNodeRed): Promise<FlowNode[]> {
  const res = await request(`${red.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
  if (!res.ok) throw new Error(`GET /flows answered ${res.status}`);
  return ((await res.json()) as { flows: FlowNode[] }).flows;
}

/** The flows' run state (Node-RED 3+): "start" when running, "stop" when stopped. */
export async function flowsState(red: RunningNodeRed): Promise<string> {
  const res = await request(`${red.url}/flows/state`);
  if (!res.ok) return `unknown (${res.status})`;
  return ((await res.json()) as { state: string }).state;
}

/** The node modules the runtime has loaded, as the palette manager lists them. */
export async function installedNodes(red: RunningNodeRed): Promise<Array<{ id: string; module: string; types: string[]; enabled: boolean; err?: string }>> {
  const res = await request(`${red.url}/nodes`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET /nodes answered ${res.status}`);
  return (await res.json()) as Array<{ id: string; module: string; types: string[]; enabled: boolean; err?: string }>;
}

export { request };
