/** The classifier a command runs when `--model` is not given: the shipped default model. */
import { shippedPath } from "../io/shipped.ts";

/** The shipped default model's folder. */
export function defaultModelDir(): string {
  return shippedPath("models/default");
}
