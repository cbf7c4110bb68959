/** Temporary registry folders for the registry tests; each test removes what it made. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const GOOD_MODEL = `manufacturer: Acme
model: PM-1
protocols: [modbus-tcp]
addressing: protocol
source:
  title: Acme PM-1 Modbus map
  version: "1.0"
points:
  - name: voltage_l1_n
    registerType: holding
    address: 0
    dataType: float32
    unit: V
  - name: current_l1
    registerType: holding
    address: 2
    dataType: float32
    unit: A
  - name: active_power_total
    registerType: holding
    address: 4
    dataType: int32
    scale: 1000
    unit: W
profiles:
  basic_power:
    points: [voltage_l1_n, current_l1]
  full_power:
    extends: basic_power
    points: [active_power_total]
  energy:
    points: [active_power_total]
`;

export function tempRegistry(files: Record<string, string>): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-registry-'));
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** GOOD_MODEL with one line replaced, for the broken-file cases. */
export function brokenModel(find: string, replace: string): string {
  if (!GOOD_MODEL.includes(find)) throw new Error(`fixture has no "${find}"`);
  return GOOD_MODEL.replace(find, replace);
}
