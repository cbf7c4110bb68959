/**
 * The ready-to-render models the rtu-dashboard node sends to the dashboard
 * widgets. Numbers stay numbers (the table sorts on them); the browser only
 * formats and filters.
 */
import type { AlertState, Severity } from '../alert/types';
import type { DeviceStatus } from '../health/types';
import type { PointValue, Quality } from '../reading';

/**
 * One device in the health table, as an array to keep the message small with
 * hundreds of devices; `DEVICE_COLUMNS` names the positions.
 */
export type DeviceRow = [
  device: string,
  line: string,
  status: DeviceStatus,
  lastGoodAt: number | null,
  lastPollAt: number | null,
  successRate: number | null,
  latencyP50Ms: number | null,
  latencyP95Ms: number | null,
  consecutiveFailures: number,
  retryAt: number | null,
  values: string,
  alerts: number,
  lastError: string,
];

export const DEVICE_COLUMNS = [
  'device',
  'line',
  'status',
  'lastGoodAt',
  'lastPollAt',
  'successRate',
  'latencyP50Ms',
  'latencyP95Ms',
  'consecutiveFailures',
  'retryAt',
  'values',
  'alerts',
  'lastError',
] as const;

export interface DetailValue {
  point: string;
  value: PointValue;
  unit: string;
  quality: Quality;
}

export interface DeviceError {
  at: number;
  text: string;
}

/** The result of a dashboard action on one device ("read now"), kept until the next action. */
export interface ActionResult {
  action: 'read';
  device: string;
  at: number;
  ok: boolean;
  text: string;
}

export interface DeviceDetail {
  device: string;
  status: DeviceStatus | 'not deployed';
  /** Why the device is not online, in words; absent when it is. */
  why?: string;
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  intervalMs?: number;
  plan?: string;
  readingAt?: number;
  values: DetailValue[];
  errors: DeviceError[];
  trendPoint?: string;
  action?: ActionResult;
}

export interface DevicesView {
  updatedAt: number;
  columns: readonly string[];
  rows: DeviceRow[];
  counts: Record<DeviceStatus, number>;
  detail?: DeviceDetail;
}

export interface LineRow {
  line: string;
  state: string;
  connected: boolean;
  queueDepth: number;
  requestsPerSec: number;
  devices: number | null;
  unitsBackingOff: number[];
  lastError: string;
}

/** One IEC 104 connection (or a node without one), as the overview lists it. */
export interface Iec104Row {
  node: string;
  role: string;
  remote: string;
  state: string;
  /** I-frames sent and not acknowledged, plus ASDUs waiting for the k window. */
  unacked: number;
  queued: number;
  problem: string;
}

export interface QueueRow {
  queue: string;
  depth: number;
  oldestAgeMs: number;
  drops: number;
  problem: string;
}

export interface AlertRow {
  id: string;
  device: string;
  point: string;
  severity: Severity;
  state: AlertState;
  text: string;
  value: PointValue;
  unit: string;
  raisedAt: number;
  acknowledgedBy?: string;
  test?: boolean;
}

export interface SystemRow {
  label: string;
  value: string;
  /** Worth a look: high load, little disk, a large clock offset. */
  warn?: boolean;
}

export interface OverviewView {
  updatedAt: number;
  system: SystemRow[];
  lines: LineRow[];
  queues: QueueRow[];
  /** IEC 104 outstations and masters with their connections. */
  iec104: Iec104Row[];
  alerts: AlertRow[];
  /** Active alerts beyond those listed (the list is capped). */
  moreAlerts: number;
  /** Sources that failed to report, actions that failed. */
  problems: string[];
}

/** What the trend chart plots: one point of one device. */
export interface TrendSelection {
  device: string;
  point: string;
}
