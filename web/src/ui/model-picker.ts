/**
 * "Open model…": a modal dialog with a folder picker and a multi-file picker. The files are read in the page and
 * handed to the engine worker, whose loader (the command line's own) checks them; nothing is uploaded.
 */
import type { Translator } from "../i18n.ts";
import type { Actions, LoadStage } from "../state.ts";
import { el } from "./dom.ts";

/** The files of a pick that form one model folder: the folder holding config.json (the shallowest), else all. */
export function modelFolderFiles(files: File[]): File[] {
  const withPath = files.map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  const configs = withPath.filter((f) => f.path.split("/").pop() === "config.json").sort((a, b) => a.path.split("/").length - b.path.split("/").length);
  if (configs.length === 0) return files;
  const dir = configs[0].path.slice(0, configs[0].path.length - "config.json".length);
  return withPath.filter((f) => f.path.startsWith(dir) && !f.path.slice(dir.length).includes("/")).map((f) => f.file);
}

/** The name a pick is shown under: the folder's name, or the given fallback for loose files. */
export function pickName(files: File[], fallback: string): string {
  const path = files[0]?.webkitRelativePath ?? "";
  const parts = path.split("/");
  return parts.length > 1 ? parts[parts.length - 2] : fallback;
}

/** The step of each load stage, out of 3, for the progress bar. */
const STAGE_STEP: Record<LoadStage, number> = { reading: 1, building: 2, running: 3 };

/** A byte count as the progress label shows it: "438 MB". */
function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${Math.round(bytes / 1e6).toLocaleString("en-US")} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

/** Opens the dialog (built fresh, in the current language). */
export function openModelPicker(t: Translator, actions: Actions, hasDefault: boolean): void {
  const status = el("p", { class: "status", role: "status", "data-key": "picker-status" });
  const dialog = el("dialog", { class: "picker", "aria-labelledby": "picker-title" });
  // A big folder takes seconds (reading, then building: 438 MB of BERT-base): the bar says which step is under way.
  const bar = el("progress", { max: "3", value: "0", "data-key": "load-progress", "aria-labelledby": "load-progress-label" });
  const barLabel = el("span", { id: "load-progress-label", "data-key": "load-progress-label" });
  const progress = el("div", { class: "load-progress", hidden: true }, bar, barLabel);
  const showStage = (files: File[]) => (stage: LoadStage): void => {
    progress.hidden = false;
    bar.value = STAGE_STEP[stage] - 0.5; // a step under way is half done
    barLabel.textContent = t(`picker.stage.${stage}`, { size: sizeText(files.reduce((n, f) => n + f.size, 0)) });
  };
  /** Runs a load, closing the dialog when it succeeds and showing the loader's message when it fails. */
  const attempt = async (loadModel: () => Promise<void>): Promise<void> => {
    status.className = "status busy";
    status.textContent = t("model.loading");
    try {
      await loadModel();
      dialog.close();
    } catch (e) {
      progress.hidden = true;
      status.className = "status error";
      status.setAttribute("role", "alert");
      status.textContent = t("picker.error", { message: e instanceof Error ? e.message : String(e) });
    }
  };
  const load = async (list: FileList | null): Promise<void> => {
    const files = [...(list ?? [])];
    if (files.length > 0) await attempt(() => actions.openFiles(files, showStage(files)));
  };
  const folderInput = el("input", { type: "file", id: "pick-folder", class: "visually-hidden", multiple: true, webkitdirectory: true, "data-key": "pick-folder" });
  const filesInput = el("input", { type: "file", id: "pick-files", class: "visually-hidden", multiple: true, "data-key": "pick-files", accept: ".json,.safetensors,.txt" });
  folderInput.addEventListener("change", () => void load(folderInput.files));
  filesInput.addEventListener("change", () => void load(filesInput.files));
  dialog.append(
    el("h2", { id: "picker-title" }, t("picker.title")),
    el("p", {}, t("picker.explain")),
    el("div", { class: "picker-buttons" },
      folderInput, el("label", { for: "pick-folder", class: "button" }, t("picker.folder")),
      filesInput, el("label", { for: "pick-files", class: "button" }, t("picker.files")),
      hasDefault ? el("button", { type: "button", "data-key": "pick-default", onclick: () => void attempt(() => actions.openDefault()) }, t("picker.reset")) : null),
    progress,
    status,
    el("form", { method: "dialog" }, el("button", { type: "submit", "data-key": "picker-close" }, t("picker.close"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
}
