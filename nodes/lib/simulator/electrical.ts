/**
 * The electrical state of one simulated installation: per-phase voltage,
 * current and power factor following a daily load curve with noise, powers
 * derived from them (P = V·I·PF per phase, totals as sums), and energy
 * counters integrated from those powers so they only ever grow.
 */
import type { Meaning } from './meaning';

/** Small deterministic PRNG (mulberry32): the same seed gives the same meter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ElectricalOptions {
  seed: number;
  /** Phases present: 1 for a single-phase meter, 3 otherwise. */
  phases: 1 | 3;
  /** Current at full load per phase (A); the load curve moves between ~15 % and ~95 % of it. */
  ratedCurrent?: number;
  nominalVoltage?: number;
  nominalFrequency?: number;
}

const HOUR = 3_600_000;
const TWO_PI = Math.PI * 2;

function gauss(x: number, centre: number, width: number): number {
  const d = (x - centre) / width;
  return Math.exp(-d * d);
}

/** Fraction of rated load at local time `now`: night base, morning and evening peaks. */
function dailyLoad(now: number): number {
  const d = new Date(now);
  const h = d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600;
  return 0.25 + 0.3 * gauss(h, 8.5, 2.5) + 0.45 * gauss(h, 19, 3) + 0.1 * gauss(h - 24, -5, 3);
}

export class Electrical {
  readonly phases: 1 | 3;
  readonly v = [0, 0, 0];
  readonly i = [0, 0, 0];
  readonly pf = [0, 0, 0];
  readonly p = [0, 0, 0];
  readonly q = [0, 0, 0];
  readonly s = [0, 0, 0];
  readonly vll = [0, 0, 0];
  frequency = 50;
  /** Energy counters (Wh, varh, VAh) per phase; totals are their sums. */
  readonly importWh = [0, 0, 0];
  readonly exportWh = [0, 0, 0];
  readonly importVarh = [0, 0, 0];
  readonly exportVarh = [0, 0, 0];
  readonly vah = [0, 0, 0];
  demandW = 0;
  demandMaxW = 0;
  demandVA = 0;
  demandMaxVA = 0;
  readonly demandA = [0, 0, 0];
  readonly demandMaxA = [0, 0, 0];
  operatingHours: number;
  temperature = 35;
  private readonly random: () => number;
  private readonly rated: number;
  private readonly nominalV: number;
  private readonly nominalF: number;
  private readonly phaseShare: number[];
  private readonly drift: number;
  private last = 0;

  constructor(options: ElectricalOptions) {
    this.random = seededRandom(options.seed);
    this.phases = options.phases;
    this.rated = options.ratedCurrent ?? 20 + Math.round(this.random() * 60);
    this.nominalV = options.nominalVoltage ?? 230;
    this.nominalF = options.nominalFrequency ?? 50;
    // Phases are never loaded quite alike, and each meter's curve is a little shifted.
    this.phaseShare = [0.9 + this.random() * 0.2, 0.85 + this.random() * 0.25, 0.8 + this.random() * 0.3];
    this.drift = this.random() * TWO_PI;
    const startKwh = 1_000 + this.random() * 49_000;
    for (let k = 0; k < 3; k++) {
      const share = this.phases === 1 ? (k === 0 ? 1 : 0) : 1 / 3;
      this.importWh[k] = startKwh * 1000 * share;
      this.exportWh[k] = startKwh * 10 * share * this.random();
      this.importVarh[k] = this.importWh[k] * 0.3;
      this.exportVarh[k] = this.exportWh[k] * 0.1;
      this.vah[k] = this.importWh[k] * 1.08;
    }
    this.operatingHours = Math.round(startKwh / 5);
  }

  private noise(amplitude: number): number {
    return (this.random() * 2 - 1) * amplitude;
  }

  /** Moves the state to `now`: new instantaneous values, energy integrated over the elapsed time. */
  step(now: number): void {
    const dtHours = this.last ? Math.max(0, now - this.last) / HOUR : 0;
    // Integrate with the power that held during the interval, before it changes.
    if (dtHours > 0) {
      for (let k = 0; k < 3; k++) {
        this.importWh[k] += Math.max(0, this.p[k]) * dtHours;
        this.exportWh[k] += Math.max(0, -this.p[k]) * dtHours;
        this.importVarh[k] += Math.max(0, this.q[k]) * dtHours;
        this.exportVarh[k] += Math.max(0, -this.q[k]) * dtHours;
        this.vah[k] += this.s[k] * dtHours;
      }
      this.operatingHours += dtHours;
    }
    this.last = now;
    const minutes = now / 60_000;
    const load = dailyLoad(now) * (1 + 0.08 * Math.sin(TWO_PI * minutes / 9 + this.drift));
    const vSlow = 1 + 0.012 * Math.sin(TWO_PI * minutes / 37 + this.drift);
    for (let k = 0; k < 3; k++) {
      if (k >= this.phases) {
        this.v[k] = this.i[k] = this.pf[k] = this.p[k] = this.q[k] = this.s[k] = 0;
        continue;
      }
      this.v[k] = this.nominalV * vSlow + this.noise(0.4) + (k - 1) * 0.6;
      this.i[k] = Math.max(0.2, this.rated * load * this.phaseShare[k] * (1 + this.noise(0.015)));
      const pf = 0.92 + 0.05 * Math.sin(TWO_PI * minutes / 23 + this.drift + k) + this.noise(0.005);
      this.pf[k] = Math.min(0.99, Math.max(0.85, pf));
      this.s[k] = this.v[k] * this.i[k];
      this.p[k] = this.s[k] * this.pf[k];
      this.q[k] = Math.sqrt(Math.max(0, this.s[k] * this.s[k] - this.p[k] * this.p[k]));
    }
    for (let k = 0; k < 3; k++) {
      const a = this.v[k];
      const b = this.v[(k + 1) % 3];
      // Two phasors 120° apart: |Va - Vb| = sqrt(Va² + Vb² + Va·Vb); ~400 V for 230 V phases.
      this.vll[k] = this.phases === 3 ? Math.sqrt(a * a + b * b + a * b) : 0;
    }
    this.frequency = this.nominalF + 0.03 * Math.sin(TWO_PI * minutes / 5 + this.drift) + this.noise(0.01);
    // Demand: a 15-minute sliding average, approximated by exponential smoothing per step.
    const alpha = dtHours > 0 ? Math.min(1, dtHours / 0.25) : 1;
    this.demandW += (this.sum(this.p) - this.demandW) * alpha;
    this.demandVA += (this.sum(this.s) - this.demandVA) * alpha;
    this.demandMaxW = Math.max(this.demandMaxW, this.demandW);
    this.demandMaxVA = Math.max(this.demandMaxVA, this.demandVA);
    for (let k = 0; k < 3; k++) {
      this.demandA[k] += (this.i[k] - this.demandA[k]) * alpha;
      this.demandMaxA[k] = Math.max(this.demandMaxA[k], this.demandA[k]);
    }
    this.temperature = 30 + 15 * load + this.noise(0.2);
  }

  private sum(a: number[]): number {
    return a[0] + a[1] + a[2];
  }

  private avg(a: number[]): number {
    let s = 0;
    for (let k = 0; k < this.phases; k++) s += a[k];
    return s / this.phases;
  }

  private pick(a: number[], meaning: Meaning, total: 'sum' | 'avg'): number {
    if (meaning.scope.kind === 'phase') return a[meaning.scope.index];
    if (meaning.scope.kind === 'average' || total === 'avg') return this.avg(a);
    return this.sum(a);
  }

  /** The value of a quantity in SI units (V, A, W, var, VA, Wh, varh, VAh, Hz, %, h, °C). */
  value(meaning: Meaning): number {
    switch (meaning.quantity) {
      case 'voltage_ln':
        return this.pick(this.v, meaning, 'avg');
      case 'voltage_ll':
        return this.phases === 1 ? this.v[0] : meaning.scope.kind === 'phase' ? this.vll[meaning.scope.index] : (this.vll[0] + this.vll[1] + this.vll[2]) / 3;
      case 'current':
        return this.pick(this.i, meaning, 'sum');
      case 'current_neutral':
        return this.neutralCurrent();
      case 'active_power':
        return this.pick(this.p, meaning, 'sum');
      case 'reactive_power':
        return this.pick(this.q, meaning, 'sum');
      case 'apparent_power':
        if (meaning.scope.kind === 'phase') return this.s[meaning.scope.index];
        return meaning.scope.kind === 'average' ? this.avg(this.s) : this.totalApparent();
      case 'power_factor': {
        if (meaning.scope.kind === 'phase') return this.pf[meaning.scope.index];
        const s = this.totalApparent();
        return s > 0 ? this.sum(this.p) / s : 1;
      }
      case 'frequency':
        return this.frequency;
      case 'active_energy_import':
        return this.pick(this.importWh, meaning, 'sum');
      case 'active_energy_export':
        return this.pick(this.exportWh, meaning, 'sum');
      case 'active_energy_total':
        return this.pick(this.importWh, meaning, 'sum') + this.pick(this.exportWh, meaning, 'sum');
      case 'active_energy_net':
        return this.pick(this.importWh, meaning, 'sum') - this.pick(this.exportWh, meaning, 'sum');
      case 'reactive_energy_import':
        return this.pick(this.importVarh, meaning, 'sum');
      case 'reactive_energy_export':
        return this.pick(this.exportVarh, meaning, 'sum');
      case 'reactive_energy_total':
        return this.pick(this.importVarh, meaning, 'sum') + this.pick(this.exportVarh, meaning, 'sum');
      case 'apparent_energy':
        return this.pick(this.vah, meaning, 'sum');
      case 'thd_voltage':
        return 1.5 + 0.5 * this.pfSpread();
      case 'thd_current':
        return 6 + 4 * this.pfSpread();
      case 'voltage_unbalance':
        return this.unbalance(this.v);
      case 'current_unbalance':
        return this.unbalance(this.i);
      case 'power_demand':
        return this.demandW;
      case 'power_demand_max':
        return this.demandMaxW;
      case 'apparent_demand':
        return this.demandVA;
      case 'apparent_demand_max':
        return this.demandMaxVA;
      case 'current_demand':
        return this.pick(this.demandA, meaning, 'avg');
      case 'current_demand_max':
        return this.pick(this.demandMaxA, meaning, 'avg');
      case 'operating_hours':
        return this.operatingHours;
      case 'temperature':
        return this.temperature;
      default:
        return 0;
    }
  }

  /** Largest deviation from the phase average, in % of the average (the NEMA definition). */
  private unbalance(a: number[]): number {
    if (this.phases === 1) return 0;
    const avg = this.avg(a);
    return avg > 0 ? (100 * Math.max(Math.abs(a[0] - avg), Math.abs(a[1] - avg), Math.abs(a[2] - avg))) / avg : 0;
  }

  /** Vector apparent power, so that the totals keep S² = P² + Q² like the phases do. */
  private totalApparent(): number {
    return Math.hypot(this.sum(this.p), this.sum(this.q));
  }

  private pfSpread(): number {
    return 1 - this.avg(this.pf);
  }

  /** |Ia + Ib + Ic| for currents 120° apart, each lagging by its own power-factor angle. */
  private neutralCurrent(): number {
    if (this.phases === 1) return this.i[0];
    let re = 0;
    let im = 0;
    for (let k = 0; k < 3; k++) {
      const angle = (-k * TWO_PI) / 3 - Math.acos(this.pf[k]);
      re += this.i[k] * Math.cos(angle);
      im += this.i[k] * Math.sin(angle);
    }
    return Math.hypot(re, im);
  }
}
