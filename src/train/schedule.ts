/** Learning-rate schedules: the paper's warmup (Vaswani et al. §5.3) and linear warmup with linear or cosine decay. */
import { ConfigError } from "../errors.ts";

/** A learning rate for each step (1-based). */
export type Schedule = (step: number) => number;

/** lrate = scale · d_model^−0.5 · min(step^−0.5, step · warmup^−1.5): a linear rise for `warmup` steps, then 1/√step. */
export function noamSchedule(dModel: number, warmup: number, scale = 1): Schedule {
  if (!(warmup > 0)) throw new ConfigError(`schedule: warmup must be > 0, got ${warmup}`);
  return (step) => {
    const s = Math.max(step, 1);
    return scale * dModel ** -0.5 * Math.min(s ** -0.5, s * warmup ** -1.5);
  };
}

/** Linear warmup from 0 to `peak` over `warmup` steps, then linear or cosine decay to `minLr` at `total` steps. */
export function warmupDecaySchedule(options: { peak: number; warmup: number; total: number; decay: "linear" | "cosine" | "constant"; minLr?: number }): Schedule {
  const { peak, warmup, total, decay } = options;
  const minLr = options.minLr ?? 0;
  if (!(total > 0) || warmup < 0 || warmup > total) throw new ConfigError(`schedule: need 0 ≤ warmup (${warmup}) ≤ total (${total})`);
  return (step) => {
    if (step <= warmup && warmup > 0) return (peak * step) / warmup;
    if (decay === "constant") return peak;
    const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    const factor = decay === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
    return minLr + (peak - minLr) * factor;
  };
}

/** The schedule section of a training config: `warmupRatio` (a fraction of all steps), when set, replaces `warmup`. */
export interface ScheduleSettings {
  name: "constant" | "linear" | "cosine" | "noam";
  warmup: number;
  warmupRatio?: number;
  minLr?: number;
}

/** The schedule a config's section names, peaking at `lr`, over `totalSteps` steps. */
export function scheduleFromConfig(s: ScheduleSettings, lr: number, totalSteps: number, dModel: number): Schedule {
  const warmupSteps = s.warmupRatio !== undefined ? Math.round(s.warmupRatio * totalSteps) : s.warmup;
  if (s.name === "noam") return noamSchedule(dModel, Math.max(1, warmupSteps), lr); // lr acts as the paper's scale factor
  return warmupDecaySchedule({ peak: lr, warmup: Math.min(warmupSteps, totalSteps), total: totalSteps, decay: s.name, minLr: s.minLr });
}
