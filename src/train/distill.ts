/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"): a student
 * learns from the class probabilities of trained teachers as well as from the labels. With several teachers the
 * target is their ensemble, the mean of their softened probabilities:
 *
 *   q = (1/K) Σ_k softmax(z_k / T),   loss = α · CE(z, y) + (1 − α) · T² · CE(z / T, q)
 *
 * A teacher is any classifier folder with the run's labels (its own vocabulary and tokenizer: it reads the raw
 * text). Its probabilities are computed once, before training, in inference mode (dropout off): no teacher runs
 * during the student's steps.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { loadBert } from "../models/load-bert.ts";
import { noGrad } from "../tensor/autograd.ts";
import { withStepMemory } from "../tensor/memory.ts";
import { evalBatches } from "./batching.ts";
import { classifierLogits, encodeText } from "./evaluate.ts";
import { temperedLogSoftmaxRow } from "./losses.ts";

/** The distillation settings of a training config; no teachers turns it off. */
export interface DistillSettings {
  /** Classifier folders whose averaged probabilities are the soft targets. */
  teachers: string[];
  /** T: the teachers' and the student's logits are divided by it before the softmax of the soft term. */
  temperature: number;
  /** α: the weight of the loss on the labels; 1 − α goes to the soft term. */
  alpha: number;
}

/** The soft targets of a training set and how often the teachers' ensemble agrees with its labels. */
export interface TeacherTargets {
  /** One distribution per text, in the student's class order. */
  targets: Float32Array[];
  /** The share of texts whose largest target is the text's label (the ensemble's training accuracy). */
  agreement: number;
}

/** Refuses a missing teacher folder, saying what a teacher is: a recipe's teachers are runs the user trains first. */
function requireTeacher(dir: string): void {
  if (!existsSync(dir)) throw new ConfigError(`teacher ${dir}: no such folder; a teacher is a trained classifier (tsformer train … --out DIR writes DIR/best)`);
}

/**
 * A SHA-256 over the names and bytes of the files in each teacher folder, in order. A resumed run's fingerprint holds
 * it: the soft targets are computed again on resume, so a teacher retrained in the meantime must refuse the resume.
 */
export function teacherFilesDigest(teachers: readonly string[]): string {
  const hash = createHash("sha256");
  for (const [k, dir] of teachers.entries()) {
    requireTeacher(dir);
    hash.update(`teacher\0${k}\0`);
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      hash.update(`${name}\0`).update(readFileSync(path));
    }
  }
  return hash.digest("hex");
}

/**
 * The teachers' averaged softened probabilities for `texts`. `labels` are the student's class names (its head's
 * order) and `classIds` each text's label as a class id. A missing teacher, one without a classification head, or
 * one with other labels than the student's is a one-line error naming the folder.
 */
export async function teacherTargets(teachers: readonly string[], texts: readonly string[], classIds: readonly number[], labels: readonly string[], temperature: number): Promise<TeacherTargets> {
  const sums = texts.map(() => new Float64Array(labels.length));
  const logp = new Float64Array(labels.length);
  for (const dir of teachers) {
    requireTeacher(dir);
    const teacher = await loadBert(dir, { mlmHead: false });
    const teacherLabels = teacher.model.classifier ? teacher.config.labels : null;
    if (!teacherLabels) throw new ConfigError(`teacher ${dir}: no classification head (no classifier.* weights); a teacher must be a trained classifier`);
    const toStudent = teacherLabels.map((l) => labels.indexOf(l));
    if (teacherLabels.length !== labels.length || toStudent.includes(-1)) {
      throw new ConfigError(`teacher ${dir}: its labels (${teacherLabels.join(", ")}) are not the run's (${labels.join(", ")})`);
    }
    const examples = texts.map((t) => ({ ids: encodeText(teacher.tokenizer, t, teacher.maxLength), label: 0 }));
    teacher.model.eval();
    noGrad(() => {
      for (const { batch, indices } of evalBatches(examples, 64, teacher.model.config.padId)) {
        withStepMemory(() => { // each batch's activations reuse one region of WASM memory; only numbers leave it
          const logits = classifierLogits(teacher.model, batch.ids, batch.attentionMask).data;
          indices.forEach((i, b) => {
            temperedLogSoftmaxRow(logits, b * labels.length, labels.length, temperature, logp);
            toStudent.forEach((s, c) => (sums[i][s] += Math.exp(logp[c]) / teachers.length));
          });
        });
      }
    });
  }
  let agreeing = 0;
  const targets = sums.map((q, i) => {
    let best = 0;
    for (let c = 1; c < q.length; c++) if (q[c] > q[best]) best = c;
    if (best === classIds[i]) agreeing++;
    return Float32Array.from(q);
  });
  return { targets, agreement: texts.length > 0 ? agreeing / texts.length : 0 };
}
