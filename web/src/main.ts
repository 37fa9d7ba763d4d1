/**
 * The explorer page: starts the engine worker, loads the shipped model, runs sentences and draws the views.
 * State lives in one object; every change redraws the page from it (small enough to be instant), keeping the
 * keyboard focus on the element with the same data-key.
 */
import { EngineClient } from "./client.ts";
import { BASELINE, type ExplainResult, FILL_MASK_SHOWN, type ModelInfo, type WhatIf, isBaseline } from "./engine/protocol.ts";
import { EXAMPLES, FILL_EXAMPLES } from "./examples.ts";
import { fillSlot, keptRestores } from "./fill-mask.ts";
import { type StringKey, type Vars, detectLanguage, translate, translator } from "./i18n.ts";
import type { SiteManifest } from "./site.ts";
import { loadQuiz, saveQuiz } from "./quiz.ts";
import type { Actions, AppState, ExplainState, FillState, LoadStage, View, ViewContext } from "./state.ts";
import { attentionView } from "./ui/attention-view.ts";
import { el } from "./ui/dom.ts";
import { explainView } from "./ui/explain-view.ts";
import { fillMaskView } from "./ui/fill-mask-view.ts";
import { modelLine, prediction, sentenceForm, statusLine, titleBar } from "./ui/header.ts";
import { labView } from "./ui/lab-view.ts";
import { modelFolderFiles, openModelPicker, pickName } from "./ui/model-picker.ts";
import { pipelineView } from "./ui/pipeline-view.ts";
import { whatIfView } from "./ui/whatif-view.ts";

const VIEWS: readonly View[] = ["pipeline", "attention", "fill-mask", "explain", "whatif", "lab"];
/** The Explain view before any run: the predicted class, no head removed, the last layer's heads together. */
const EXPLAIN_START: ExplainState = { target: null, maskedHeads: [], base: null, masked: null, model: null, layer: -1, head: "all", status: null };
const LANG_KEY = "tsformer-explorer-lang";

/** The view and anchor a #hash names: #attention, or #lab-q04 (the lab, scrolled to Q04); other hashes (#main) name no view. */
function route(hash: string): { view: View | null; anchor: string | null } {
  const h = hash.replace(/^#/, "");
  if (h.startsWith("lab-")) return { view: "lab", anchor: h };
  return { view: (VIEWS as readonly string[]).includes(h) ? (h as View) : null, anchor: null };
}

/** The explorer application. */
class Explorer {
  private state: AppState;
  private readonly client = new EngineClient(new URL("engine-worker.js", import.meta.url));
  private readonly root: HTMLElement;
  private runCounter = 0;
  private fillCounter = 0;
  private explainCounter = 0;
  /** The site's masked-LM model is being fetched into the worker (once). */
  private loadingMaskedLm: Promise<boolean> | null = null;

  constructor(root: HTMLElement, site: SiteManifest) {
    this.root = root;
    const saved = localStorage.getItem(LANG_KEY);
    this.state = {
      lang: saved === "en" || saved === "zh" ? saved : detectLanguage(navigator.languages ?? [navigator.language]),
      view: route(location.hash).view ?? "pipeline", site, backend: null, model: null, status: null, text: EXAMPLES[0],
      // `tsformer serve --quantize int8` prints the address with ?quantize=int8: start with the int8 switch on
      result: null, variant: null, whatIf: BASELINE, int8: new URLSearchParams(location.search).get("quantize") === "int8", layer: 0, head: 0, shownHeads: [], focus: null, compareHead: "mean",
      fill: { text: FILL_EXAMPLES[0], result: null, restore: {}, layer: 0, head: "mean", shipped: null, status: null },
      explain: EXPLAIN_START, quiz: loadQuiz(localStorage),
    };
    window.addEventListener("hashchange", () => this.showRoute());
  }

  /** What views may call. */
  private readonly actions: Actions = {
    set: (change) => this.update(change),
    draft: (text) => {
      this.state = { ...this.state, text };
    },
    run: (text) => void this.run(text),
    setWhatIf: (whatIf) => void this.runVariant(whatIf),
    setInt8: (int8) => {
      this.update({ int8 });
      void this.run(this.state.text);
    },
    go: (view, anchor) => {
      location.hash = anchor ?? view;
    },
    openFiles: (files, onStage) => this.openFiles(files, onStage),
    openDefault: () => this.openShipped("default"),
    openNotes: () => this.openShipped("notes-encoder"),
    setFill: (change) => this.setFill(change),
    draftFill: (text) => {
      this.state = { ...this.state, fill: { ...this.state.fill, text } };
    },
    fill: (text, restore) => void this.runFill(text, restore),
    setExplain: (change) => this.setExplain(change),
    explain: (change) => {
      this.setExplain(change);
      void this.runExplain();
    },
  };

  /** Starts the engine and runs the first example on the default model. */
  async start(): Promise<void> {
    this.render();
    if (route(location.hash).anchor) this.showRoute();
    try {
      const backend = await this.client.request({ kind: "init" });
      this.update({ backend });
      if (this.state.site.defaultModel) {
        await this.openShipped("default");
      }
      await this.showFill();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Loads a model the build copied into models/default/ or models/notes-encoder/. */
  async openShipped(place: "default" | "notes-encoder"): Promise<void> {
    const files = (place === "default" ? this.state.site.defaultModel : this.state.site.notesModel)?.files ?? [];
    this.update({ status: { kind: "busy", text: this.t("model.loading") } });
    const model = await this.client.request({ kind: "load-url", name: place, base: new URL(`models/${place}/`, location.href).href, files });
    await this.loaded(model, null);
  }

  /** Loads picked files; the loader's message is thrown on failure (the picker shows it). */
  async openFiles(picked: File[], onStage: (stage: LoadStage) => void = () => {}): Promise<void> {
    const files = modelFolderFiles(picked);
    onStage("reading");
    const contents = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    onStage("building");
    const model = await this.client.request({ kind: "load-files", name: pickName(files, this.t("picker.selected")), files: contents }, contents.map((c) => c.bytes.buffer));
    onStage("running");
    await this.loaded(model, { kind: "info", text: this.t("picker.loaded", { name: model.name }) });
  }

  /** Shows a newly loaded model from its first layer and head, and runs the current sentence on it. */
  private async loaded(model: ModelInfo, status: AppState["status"]): Promise<void> {
    // The fill-mask result may come from the previous model: the view runs again when shown.
    this.update({ model, status, layer: 0, head: 0, shownHeads: [], focus: null, fill: { ...this.state.fill, result: null }, explain: EXPLAIN_START });
    await this.run(this.state.text);
    await this.showFill();
  }

  /** Fetches the site's masked-LM model (models/mlm) into the worker's "masked-lm" place, once; false when it failed. */
  private loadMaskedLm(): Promise<boolean> {
    const files = this.state.site.maskedLmModel?.files ?? [];
    this.loadingMaskedLm ??= (async () => {
      this.setFill({ status: { kind: "busy", text: this.t("fill.loading") } });
      try {
        const shipped = await this.client.request({ kind: "load-url", slot: "masked-lm", name: "mlm", base: new URL("models/mlm/", location.href).href, files });
        this.setFill({ shipped, status: null });
        return true;
      } catch (e) {
        this.loadingMaskedLm = null; // showing the view again tries again
        this.setFill({ status: { kind: "error", text: this.t("status.error", { message: e instanceof Error ? e.message : String(e) }) } });
        return false;
      }
    })();
    return this.loadingMaskedLm;
  }

  /** When the fill-mask view is shown: loads its model if needed and runs its sentence unless the result is current. */
  private async showFill(): Promise<void> {
    const slot = fillSlot(this.state.model, this.state.site);
    if (this.state.view !== "fill-mask" || !this.state.backend || !slot) return;
    if (slot === "masked-lm" && !(await this.loadMaskedLm())) return;
    const { result, text, restore } = this.state.fill;
    if (!result || result.slot !== slot || result.int8 !== this.state.int8) await this.runFill(text, restore);
  }

  /** Runs fill-mask on `text` with the view's model; `restore`: the tokens masked by a click, by position. */
  async runFill(text: string, restore: Record<number, string> = {}): Promise<void> {
    const slot = fillSlot(this.state.model, this.state.site);
    if (!slot) return;
    if (!text.trim()) {
      this.setFill({ text, status: { kind: "error", text: this.t("sentence.empty") } });
      return;
    }
    const ticket = ++this.fillCounter; // a newer run wins over a slower older one
    this.setFill({ text, status: { kind: "busy", text: this.t("status.running") } });
    if (slot === "masked-lm" && !(await this.loadMaskedLm())) return;
    try {
      const result = await this.client.request({ kind: "fill-mask", slot, text, topK: FILL_MASK_SHOWN, int8: this.state.int8 });
      if (ticket === this.fillCounter) this.setFill({ result, restore: keptRestores(restore, result), status: null });
    } catch (e) {
      if (ticket === this.fillCounter) this.setFill({ status: { kind: "error", text: this.t("status.error", { message: e instanceof Error ? e.message : String(e) }) } });
    }
  }

  /** Merges a change into the fill-mask view's state and redraws. */
  private setFill(change: Partial<FillState>): void {
    this.update({ fill: { ...this.state.fill, ...change } });
  }

  /** Runs a sentence as trained and, when a switch is turned, with the switches. */
  async run(text: string): Promise<void> {
    if (!text.trim()) {
      this.update({ status: { kind: "error", text: this.t("sentence.empty") } });
      return;
    }
    if (!this.state.model) return;
    const ticket = ++this.runCounter; // a newer run wins over a slower older one
    this.update({ text, status: { kind: "busy", text: this.t("status.running") } });
    try {
      const int8 = this.state.int8;
      // Only the run as trained is compared with float32: the int8 note shows that comparison alone.
      const result = await this.client.request({ kind: "run", text, whatIf: BASELINE, int8, compare: int8 });
      const variant = isBaseline(this.state.whatIf) ? null : await this.client.request({ kind: "run", text, whatIf: this.state.whatIf, int8, compare: false });
      if (ticket !== this.runCounter) return;
      const focus = this.state.focus && this.state.focus.index < result.tokens.length ? this.state.focus : null;
      this.update({ result, variant, focus, status: null });
      await this.showExplain();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Re-runs with new what-if switches. */
  async runVariant(whatIf: WhatIf): Promise<void> {
    this.update({ whatIf, variant: null });
    if (isBaseline(whatIf) || !this.state.model) return;
    const ticket = ++this.runCounter;
    try {
      const variant = await this.client.request({ kind: "run", text: this.state.text, whatIf, int8: this.state.int8, compare: false });
      if (ticket === this.runCounter) this.update({ variant, status: null });
    } catch (e) {
      this.fail(e);
    }
  }

  /** Which of the Explain view's results still hold for the current model, sentence, class and masked heads. */
  private explainCurrent(): { base: ExplainResult | null; masked: ExplainResult | null } {
    const { base, masked, model, target, maskedHeads } = this.state.explain;
    const text = this.state.text;
    const baseOk = base !== null && model === this.state.model && base.text === text && base.target === (target ?? base.predicted) ? base : null;
    const sameHeads = (r: ExplainResult): boolean => r.maskedHeads.length === maskedHeads.length && r.maskedHeads.every((h, k) => h.layer === maskedHeads[k].layer && h.head === maskedHeads[k].head);
    const maskedOk = baseOk && masked && masked.text === text && masked.target === baseOk.target && sameHeads(masked) ? masked : null;
    return { base: baseOk, masked: maskedOk };
  }

  /** When the Explain view is shown: explains the sentence unless the results are current. */
  private async showExplain(): Promise<void> {
    if (this.state.view !== "explain" || !this.state.backend || !this.state.model?.labels) return;
    const { base, masked } = this.explainCurrent();
    if (!base || (this.state.explain.maskedHeads.length > 0 && !masked)) await this.runExplain();
  }

  /** Explains the sentence in the header with the view's class and masked heads; runs only what is not current. */
  async runExplain(): Promise<void> {
    const model = this.state.model;
    const text = this.state.text;
    if (!model?.labels || !text.trim()) return;
    const ticket = ++this.explainCounter; // a newer run wins over a slower older one
    const { target, maskedHeads } = this.state.explain;
    const current = this.explainCurrent();
    this.setExplain({ status: { kind: "busy", text: this.t("status.running") } });
    try {
      const base = current.base ?? await this.client.request({ kind: "explain", text, target, maskedHeads: [] });
      // The masked run explains the unmasked run's class, so removing a head never switches what is explained.
      const masked = maskedHeads.length === 0 ? null : current.masked ?? await this.client.request({ kind: "explain", text, target: base.target, maskedHeads });
      if (ticket === this.explainCounter) this.setExplain({ base, masked, model, status: null });
    } catch (e) {
      if (ticket === this.explainCounter) this.setExplain({ status: { kind: "error", text: this.t("status.error", { message: e instanceof Error ? e.message : String(e) }) } });
    }
  }

  /** Merges a change into the Explain view's state and redraws. */
  private setExplain(change: Partial<ExplainState>): void {
    this.update({ explain: { ...this.state.explain, ...change } });
  }

  private fail(e: unknown): void {
    this.update({ status: { kind: "error", text: this.t("status.error", { message: e instanceof Error ? e.message : String(e) }) } });
  }

  private t(key: StringKey, vars?: Vars): string {
    return translate(this.state.lang, key, vars);
  }

  /** Shows the view of the #hash and scrolls to its anchor. */
  private showRoute(): void {
    const { view, anchor } = route(location.hash);
    if (!view) return;
    this.update({ view });
    void this.showFill();
    void this.showExplain();
    if (anchor) {
      const target = document.getElementById(anchor);
      target?.scrollIntoView({ block: "start" });
      target?.querySelector<HTMLElement>("h3")?.focus();
    }
  }

  private update(change: Partial<AppState>): void {
    if (change.lang && change.lang !== this.state.lang) localStorage.setItem(LANG_KEY, change.lang);
    if (change.quiz) saveQuiz(localStorage, change.quiz);
    this.state = { ...this.state, ...change };
    this.render();
  }

  /** Redraws everything, restoring focus by data-key. */
  private render(): void {
    const active = document.activeElement as HTMLElement | null;
    const focusKey = active?.dataset?.key ?? null;
    const caret = active instanceof HTMLInputElement && active.type === "text" ? [active.selectionStart, active.selectionEnd] : null;
    const ctx: ViewContext = { state: this.state, t: translator(this.state.lang), actions: this.actions };
    document.documentElement.lang = this.state.lang === "zh" ? "zh-CN" : "en";
    document.title = ctx.t("app.title");
    const views: Record<View, (c: ViewContext) => HTMLElement> = { pipeline: pipelineView, attention: attentionView, "fill-mask": fillMaskView, explain: explainView, whatif: whatIfView, lab: labView };
    const nav = el("nav", { class: "tabs", "aria-label": ctx.t("nav.label") },
      VIEWS.map((v) => el("a", { href: `#${v}`, "aria-current": v === this.state.view ? "page" : "false", "data-key": `nav-${v}` }, ctx.t(`nav.${v}`))));
    const header = el("header", { class: "site-header" },
      titleBar(ctx), modelLine(ctx, () => openModelPicker(ctx.t, this.actions, this.state.site.defaultModel !== null)),
      // The fill-mask view has its own sentence box (with [MASK]) and model: the classifier's box and prediction would only confuse.
      this.state.view === "fill-mask" ? null : el("div", { class: "input-row" }, sentenceForm(ctx), prediction(ctx)), statusLine(ctx), nav);
    const main = el("main", { id: "main", tabindex: -1 }, views[this.state.view](ctx));
    const footer = el("footer", {}, el("p", {}, ctx.t("app.footer")));
    this.root.replaceChildren(header, main, footer);
    const target = focusKey ? this.root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`) : null;
    target?.focus({ preventScroll: true });
    if (caret && target instanceof HTMLInputElement) target.setSelectionRange(caret[0], caret[1]);
  }
}

/** Reads the site manifest and starts the page. */
async function main(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  const response = await fetch("site.json");
  const site = (await response.json()) as SiteManifest;
  await new Explorer(root, site).start();
}

void main();
