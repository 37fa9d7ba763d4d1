/** The page's state and the actions views call to change it. */
import type { BackendInfo, ModelInfo, RunResult, WhatIf } from "./engine/protocol.ts";
import type { Lang, Translator } from "./i18n.ts";
import type { HeadChoice } from "./metrics.ts";
import type { SiteManifest } from "./site.ts";

/** The four views, as in the address's #hash. */
export type View = "pipeline" | "attention" | "whatif" | "lab";

/** A clicked token in the attention views: a query (left column) or a key (right column). */
export interface TokenFocus {
  side: "query" | "key";
  index: number;
}

/** Everything the page shows. */
export interface AppState {
  lang: Lang;
  view: View;
  site: SiteManifest;
  backend: BackendInfo | null;
  model: ModelInfo | null;
  /** One line about the model or the last run (loading, errors). */
  status: { kind: "info" | "busy" | "error"; text: string } | null;
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
}

/** What every view receives. */
export interface ViewContext {
  state: AppState;
  t: Translator;
  actions: Actions;
}
