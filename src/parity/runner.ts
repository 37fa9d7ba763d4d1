/** The fixture runner behind `tsformer parity`: runs every case of a fixture folder and compares every stored tensor. */
import { mul } from "../tensor/ops/elementwise.ts";
import { sum } from "../tensor/ops/reduce.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type FixtureCase, compareWith, floatTensor, loadCase, passes, readIndex, runCaseFolders, uncovered } from "./fixture.ts";
import { PYTORCH_RUNNERS, type RunMode } from "./pytorch.ts";
import type { CaseResult, Comparison } from "./types.ts";
import { runWordpieceFixtures } from "./wordpiece.ts";
import { runBertModelFixtures } from "./bert.ts";
import { runBertTrainFixtures } from "./bert-train.ts";

/**
 * Runs one PyTorch op case: forward (on the fused path and, for attention, also step by step), the case's
 * loss L = Σ output ⊙ R and its backward, then compares every output, intermediate and gradient stored.
 */
export function runPytorchCase(c: FixtureCase): CaseResult {
  const spec = PYTORCH_RUNNERS[c.op];
  if (!spec) return { case: c.name, op: c.op, passed: false, compared: [], error: `unsupported op '${c.op}'` };
  const compared: Comparison[] = [];
  const covered = new Set<string>();
  const modes: RunMode[] = spec.traced ? ["fused", "traced"] : ["fused"];
  for (const mode of modes) {
    const suffix = mode === "traced" ? " [step-by-step]" : "";
    const run = spec.run(c, mode);
    for (const [name, actual] of run.computed) {
      const expected = c.tensors.get(name);
      if (!expected) continue;
      compared.push(compareWith(name + suffix, actual, expected));
      covered.add(name);
    }
    if (c.loss && run.lossOutput) {
      const r = floatTensor(c, c.loss.weight);
      sum(mul(run.lossOutput, new Tensor(r.data, r.shape))).backward();
      for (const t of c.tensors.values()) {
        if (t.role !== "grad" || !t.of) continue;
        compared.push(compareWith(t.name + suffix, run.leaves.get(t.of)?.grad?.data, t));
        covered.add(t.name);
      }
    }
  }
  const rest = uncovered(c, covered);
  compared.push(...rest.compared);
  return { case: c.name, op: c.op, passed: passes(compared), compared, ...(rest.error ? { error: rest.error } : {}) };
}

/** A family of fixtures: how to run a folder whose index.json has that `family`. */
export type FamilyRunner = (dir: string) => CaseResult[];

const families = new Map<string, FamilyRunner>();

/** Registers a fixture family (`wordpiece`, `bert_model`, …) with the runner. */
export function registerFamily(name: string, run: FamilyRunner): void {
  families.set(name, run);
}

/** Runs every case of a PyTorch op fixture folder. */
function runPytorchFolder(dir: string): CaseResult[] {
  return runCaseFolders(dir, (caseDir) => runPytorchCase(loadCase(caseDir)));
}

registerFamily("pytorch", runPytorchFolder);
registerFamily("wordpiece", runWordpieceFixtures);
registerFamily("bert_model", runBertModelFixtures);
registerFamily("bert_train", runBertTrainFixtures);

/** Runs every case of a fixture folder (its index.json says which family). */
export function runParity(dir: string): CaseResult[] {
  const { family } = readIndex(dir);
  const run = families.get(family);
  if (!run) {
    return [{ case: dir, op: family, passed: false, compared: [], error: `unknown fixture family '${family}' (known: ${[...families.keys()].join(", ")})` }];
  }
  return run(dir);
}

/** The worst comparison of a case, for one-line reports. */
export function worstOf(result: CaseResult): Comparison | null {
  return result.compared.reduce<Comparison | null>((w, c) => (w === null || c.worst > w.worst ? c : w), null);
}
