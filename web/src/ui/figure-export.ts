/**
 * Saving a figure: two small buttons, SVG and PNG. The SVG is a standalone drawing rebuilt from the figure's data
 * (the page may show a canvas or HTML); the PNG is that same SVG drawn through an Image onto a canvas at twice its
 * size, so both files show the same thing and the PNG stays sharp. Files are made in the page: nothing is sent.
 */
import type { Translator } from "../i18n.ts";
import { type Child, el, svg } from "./dom.ts";

/** The page's fonts, so a saved figure looks like the page (CJK fonts for Chinese titles). */
const FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif";

/** The PNG's pixels per SVG unit. */
const PNG_SCALE = 2;

/** About how wide `text` is at `size` px in the page's sans-serif font (CJK characters are square). */
export function textWidth(text: string, size: number): number {
  let w = 0;
  for (const c of text) w += (c.codePointAt(0) ?? 0) >= 0x2e80 ? size : size * 0.62;
  return Math.ceil(w);
}

/** A standalone SVG document of `width × height` on a white background. */
export function svgDocument(width: number, height: number, ...children: Child[]): SVGSVGElement {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "font-family": FONTS, "font-size": 11, fill: "#1d2430" },
    svg("rect", { x: 0, y: 0, width: w, height: h, fill: "#fff" }), ...children);
}

/** An SVG document's text, as a .svg file holds it (XMLSerializer writes the xmlns). */
function svgText(doc: SVGSVGElement): string {
  return new XMLSerializer().serializeToString(doc);
}

/** Draws an SVG document on a canvas at PNG_SCALE× its size and encodes it as PNG. */
async function svgToPng(doc: SVGSVGElement): Promise<Blob> {
  const width = Number(doc.getAttribute("width"));
  const height = Number(doc.getAttribute("height"));
  const image = new Image();
  // A data: URL (the page's CSP allows data: images) keeps the canvas untainted, so toBlob may read it.
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText(doc))}`;
  await image.decode();
  const canvas = el("canvas", { width: width * PNG_SCALE, height: height * PNG_SCALE });
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas");
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("PNG encoding failed"))), "image/png"));
}

/** Offers `blob` as a download named `name`. */
function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // revoking at once can cancel the download in some browsers
}

/**
 * The SVG and PNG buttons of a figure. `name`: the file name without extension ("tsformer-rollout"); `what`: the
 * figure, for the buttons' labels; `key`: the figure's data-key (the buttons are `${key}-save-svg` and `-png`);
 * `draw`: builds the SVG when a button is pressed.
 */
export function saveButtons(t: Translator, name: string, what: string, key: string, draw: () => SVGSVGElement): HTMLElement {
  const status = el("span", { class: "save-status", role: "status" });
  const png = async (): Promise<void> => {
    try {
      download(await svgToPng(draw()), `${name}.png`);
      status.textContent = "";
    } catch (e) {
      status.textContent = t("export.failed", { message: e instanceof Error ? e.message : String(e) });
    }
  };
  return el("span", { class: "save-buttons" },
    el("button", {
      type: "button", class: "small", "data-key": `${key}-save-svg`, "aria-label": t("export.svgLabel", { what }), title: `${name}.svg`,
      onclick: () => download(new Blob([svgText(draw())], { type: "image/svg+xml" }), `${name}.svg`),
    }, t("export.svg")),
    el("button", { type: "button", class: "small", "data-key": `${key}-save-png`, "aria-label": t("export.pngLabel", { what }), title: `${name}.png`, onclick: () => void png() }, t("export.png")),
    status);
}
