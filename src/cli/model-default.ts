/** The models a command runs when `--model` is not given: the shipped classifier, and the masked-LM model it was fine-tuned from. */
import { shippedPath } from "../io/shipped.ts";

/** The shipped default model's folder. */
export function defaultModelDir(): string {
  return shippedPath("models/default");
}

/** The shipped masked-LM model's folder (the pretrained BERT `models/default` was fine-tuned from), for fill-mask. */
export function defaultMaskedLmDir(): string {
  return shippedPath("models/mlm");
}
