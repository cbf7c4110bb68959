/** What a message asks of rtu-test-mode: switch, verify, or show the state. */
export type TestModeCommand = { kind: 'set'; enabled: boolean } | { kind: 'verify' } | { kind: 'show' };

const ON = ['on', 'true', 'test', 'enable', 'enabled', '1'];
const OFF = ['off', 'false', 'production', 'disable', 'disabled', '0'];

function switchFrom(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (ON.includes(v)) return true;
    if (OFF.includes(v)) return false;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const key of ['enabled', 'testMode']) {
      if (typeof o[key] === 'boolean') return o[key] as boolean;
    }
  }
  return undefined;
}

export function parseCommand(msg: Record<string, unknown>): TestModeCommand | { error: string } {
  const topic = typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
  const payload = msg.payload;
  if (topic === 'verify' || msg.verify === true || (typeof payload === 'string' && payload.trim().toLowerCase() === 'verify')) {
    return { kind: 'verify' };
  }
  if (topic === 'status' || topic === 'state') return { kind: 'show' };
  if (payload === undefined || payload === null || payload === '') return { kind: 'show' };
  const enabled = switchFrom(payload);
  if (enabled !== undefined) return { kind: 'set', enabled };
  let shown: string;
  try {
    shown = JSON.stringify(payload) ?? String(payload);
  } catch {
    shown = String(payload);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return {
    error: `msg.payload ${shown} is not a test-mode command: send true/false (or "on"/"off"), or msg.topic "verify" to read every device once`,
  };
}
