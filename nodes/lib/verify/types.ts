/**
 * What "verify configuration" reports: per configured device, whether it
 * answered, the request plan, the decoded values with units, and which values
 * look wrong. The rtu-test-mode node emits it and the dashboard renders it.
 */
import type { PointValue, Quality } from '../reading';

export interface VerifiedPoint {
  point: string;
  value: PointValue;
  unit: string;
  quality: Quality;
  /** Why the value looks wrong; absent when it is plausible or no rule applies. */
  flag?: string;
}

export interface DeviceVerification {
  device: string;
  protocol: 'modbus' | 'iec61850';
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  intervalMs: number;
  /** The request plan in words ("3 requests touching 69 registers"). */
  plan?: string;
  /** At least one value came back. */
  reachable: boolean;
  /** Why the read failed, or which part of it failed. */
  error?: string;
  quality?: Quality;
  latencyMs?: number;
  readAt?: number;
  values: VerifiedPoint[];
  /** How many values carry a flag. */
  flagged: number;
}

export interface VerifySummary {
  devices: number;
  reachable: number;
  unreachable: number;
  /** Devices with at least one flagged value. */
  flaggedDevices: number;
  flaggedValues: number;
}

export interface VerifyReport {
  startedAt: number;
  finishedAt: number;
  /** The RTU's test mode when the run started. */
  testMode: boolean;
  devices: DeviceVerification[];
  summary: VerifySummary;
}

export interface VerifyProgress {
  done: number;
  total: number;
}
