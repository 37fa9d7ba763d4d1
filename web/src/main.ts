/**
 * The explorer page: starts the engine worker, loads the shipped model, runs sentences and draws the views.
 * State lives in one object; every change redraws the page from it (small enough to be instant), keeping the
 * keyboard focus on the element with the same data-key.
 */
import { EngineClient } from "./client.ts";
import { BASELINE, type ModelInfo, type WhatIf, isBaseline } from "./engine/protocol.ts";
import { EXAMPLES } from "./examples.ts";
import { type StringKey, type Vars, detectLanguage, translate, translator } from "./i18n.ts";
import type { SiteManifest } from "./site.ts";
import type { Actions, AppState, LoadStage, View, ViewContext } from "./state.ts";
import { attentionView } from "./ui/attention-view.ts";
import { el } from "./ui/dom.ts";
import { modelLine, prediction, sentenceForm, statusLine, titleBar } from "./ui/header.ts";
import { labView } from "./ui/lab-view.ts";
import { modelFolderFiles, openModelPicker, pickName } from "./ui/model-picker.ts";
import { pipelineView } from "./ui/pipeline-view.ts";
import { whatIfView } from "./ui/whatif-view.ts";

const VIEWS: readonly View[] = ["pipeline", "attention", "whatif", "lab"];
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

  constructor(root: HTMLElement, site: SiteManifest) {
    this.root = root;
    const saved = localStorage.getItem(LANG_KEY);
    this.state = {
      lang: saved === "en" || saved === "zh" ? saved : detectLanguage(navigator.languages ?? [navigator.language]),
      view: route(location.hash).view ?? "pipeline", site, backend: null, model: null, status: null, text: EXAMPLES[0],
      // `tsformer serve --quantize int8` prints the address with ?quantize=int8: start with the int8 switch on
      result: null, variant: null, whatIf: BASELINE, int8: new URLSearchParams(location.search).get("quantize") === "int8", layer: 0, head: 0, shownHeads: [], focus: null, compareHead: "mean",
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
    openDefault: () => this.openDefault(),
  };

  /** Starts the engine and runs the first example on the default model. */
  async start(): Promise<void> {
    this.render();
    if (route(location.hash).anchor) this.showRoute();
    try {
      const backend = await this.client.request({ kind: "init" });
      this.update({ backend });
      if (this.state.site.defaultModel) {
        await this.openDefault();
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Loads the model the build copied into models/default/. */
  async openDefault(): Promise<void> {
    const files = this.state.site.defaultModel?.files ?? [];
    this.update({ status: { kind: "busy", text: this.t("model.loading") } });
    const model = await this.client.request({ kind: "load-url", name: "default", base: new URL("models/default/", location.href).href, files });
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
    this.update({ model, status, layer: 0, head: 0, shownHeads: [], focus: null });
    await this.run(this.state.text);
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
      const result = await this.client.request({ kind: "run", text, whatIf: BASELINE, int8 });
      const variant = isBaseline(this.state.whatIf) ? null : await this.client.request({ kind: "run", text, whatIf: this.state.whatIf, int8 });
      if (ticket !== this.runCounter) return;
      const focus = this.state.focus && this.state.focus.index < result.tokens.length ? this.state.focus : null;
      this.update({ result, variant, focus, status: null });
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
      const variant = await this.client.request({ kind: "run", text: this.state.text, whatIf, int8: this.state.int8 });
      if (ticket === this.runCounter) this.update({ variant, status: null });
    } catch (e) {
      this.fail(e);
    }
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
    if (anchor) {
      const target = document.getElementById(anchor);
      target?.scrollIntoView({ block: "start" });
      target?.querySelector<HTMLElement>("h3")?.focus();
    }
  }

  private update(change: Partial<AppState>): void {
    if (change.lang && change.lang !== this.state.lang) localStorage.setItem(LANG_KEY, change.lang);
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
    const views: Record<View, (c: ViewContext) => HTMLElement> = { pipeline: pipelineView, attention: attentionView, whatif: whatIfView, lab: labView };
    const nav = el("nav", { class: "tabs", "aria-label": ctx.t("nav.label") },
      VIEWS.map((v) => el("a", { href: `#${v}`, "aria-current": v === this.state.view ? "page" : "false", "data-key": `nav-${v}` }, ctx.t(`nav.${v}`))));
    const header = el("header", { class: "site-header" },
      titleBar(ctx), modelLine(ctx, () => openModelPicker(ctx.t, this.actions, this.state.site.defaultModel !== null)),
      el("div", { class: "input-row" }, sentenceForm(ctx), prediction(ctx)), statusLine(ctx), nav);
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
