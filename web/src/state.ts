/** The page's state and the actions views call to change it. */
import type { HeadRef } from "../../src/explain/heads.ts";
import type { BackendInfo, ExplainResult, FillMaskResult, ModelInfo, RunResult, WhatIf } from "./engine/protocol.ts";
import type { Lang, Translator } from "./i18n.ts";
import type { HeadChoice } from "./metrics.ts";
import type { QuizState } from "./quiz.ts";
import type { SiteManifest } from "./site.ts";

/** The views, as in the address's #hash. */
export type View = "pipeline" | "attention" | "fill-mask" | "explain" | "whatif" | "lab";

/** A clicked token in the attention views: a query (left column) or a key (right column). */
export interface TokenFocus {
  side: "query" | "key";
  index: number;
}

/** A status line: what is under way, done, or went wrong. */
export interface StatusLine {
  kind: "info" | "busy" | "error";
  text: string;
}

/** The fill-mask view's own state. */
export interface FillState {
  /** The sentence in the view's box (with [MASK]s). */
  text: string;
  /** The last run, or null before one (or after the model changed). */
  result: FillMaskResult | null;
  /** Tokens masked by a click, by position: what a click on that [MASK] puts back. */
  restore: Record<number, string>;
  /** Layer and head (or the mean of the heads) of the attention strip. */
  layer: number;
  head: HeadChoice;
  /** The site's masked-LM model (models/mlm) once the worker has loaded it. */
  shipped: ModelInfo | null;
  status: StatusLine | null;
}

/** A head of the Explain view's raw vs norm-based comparison, or all of them (raw: their mean; norm-based: the layer's). */
export type ExplainHead = number | "all";

/** The Explain view's own state. */
export interface ExplainState {
  /** The class explained, by label; null: the predicted one. */
  target: string | null;
  /** Heads removed by a click in the head-importance grid. */
  maskedHeads: HeadRef[];
  /** The explanation with no head removed, or null before one (or after the model changed). */
  base: ExplainResult | null;
  /** The same with `maskedHeads` removed, explaining base's class; null without masked heads. */
  masked: ExplainResult | null;
  /** The model `base` was computed with (opening another one runs it again). */
  model: ModelInfo | null;
  /** Layer (−1: the last) and head of the raw vs norm-based comparison. */
  layer: number;
  head: ExplainHead;
  status: StatusLine | null;
}

/** Everything the page shows. */
export interface AppState {
  lang: Lang;
  view: View;
  site: SiteManifest;
  backend: BackendInfo | null;
  model: ModelInfo | null;
  /** One line about the model or the last run (loading, errors). */
  status: StatusLine | null;
  text: string;
  /** The sentence through the model as trained. */
  result: RunResult | null;
  /** The same sentence with the what-if switches, when any is turned. */
  variant: RunResult | null;
  whatIf: WhatIf;
  /** The int8 switch: both runs (as trained, and with the switches) use int8 Linear layers. */
  int8: boolean;
  layer: number;
  head: number;
  /** Heads drawn in the head view. */
  shownHeads: boolean[];
  focus: TokenFocus | null;
  /** Head compared in the what-if view. */
  compareHead: HeadChoice;
  fill: FillState;
  explain: ExplainState;
  /** The lab's predict-then-reveal answers (saved in localStorage). */
  quiz: QuizState;
}

/** The stages of opening a model from files: the page reads them, the worker builds the model, the first sentence runs. */
export type LoadStage = "reading" | "building" | "running";

/** What views may do. */
export interface Actions {
  /** Merges a change into the state and redraws. */
  set(change: Partial<AppState>): void;
  /** Keeps what is typed in the sentence box (without redrawing). */
  draft(text: string): void;
  /** Runs the sentence in the input box. */
  run(text: string): void;
  /** Applies new what-if switches and re-runs the variant. */
  setWhatIf(whatIf: WhatIf): void;
  /** Turns the int8 switch and re-runs the sentence. */
  setInt8(on: boolean): void;
  /** Switches to a view; `anchor` is an element id to scroll to. */
  go(view: View, anchor?: string): void;
  /** Loads picked files as a model, saying which stage the load has reached (the picker's progress bar). */
  openFiles(files: File[], onStage?: (stage: LoadStage) => void): Promise<void>;
  /** Loads the shipped default model again. */
  openDefault(): Promise<void>;
  /** Loads the shipped notes' encoder (× √d_model, sinusoids), when the site has it. */
  openNotes(): Promise<void>;
  /** Merges a change into the fill-mask view's state and redraws. */
  setFill(change: Partial<FillState>): void;
  /** Keeps what is typed in the fill-mask box (without redrawing). */
  draftFill(text: string): void;
  /** Runs fill-mask on a text; `restore` lists the tokens masked by a click (what a click puts back). */
  fill(text: string, restore?: Record<number, string>): void;
  /** Merges a change into the Explain view's state and redraws. */
  setExplain(change: Partial<ExplainState>): void;
  /** Changes the class explained or the masked heads, and explains again. */
  explain(change: Pick<Partial<ExplainState>, "target" | "maskedHeads">): void;
}

/** What every view receives. */
export interface ViewContext {
  state: AppState;
  t: Translator;
  actions: Actions;
}
