/** A tiny element builder: `el("button", { class: "x", onclick }, "text")`. Plain DOM, no framework. */

/** Attributes and properties: strings/numbers/booleans become attributes (false omits), functions become listeners. */
export type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** Anything that can go inside an element. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Creates an HTML element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes and children. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
}

/** Appends children, flattening arrays and skipping empty ones. */
function append(node: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) node.appendChild(document.createTextNode(String(child)));
  }
}

/** A group of toggle buttons (aria-pressed), one per option; `onPick` receives the option's index. */
export function buttonGroup(label: string, options: string[], pressed: (i: number) => boolean, onPick: (i: number) => void, keyPrefix: string): HTMLElement {
  return el("div", { class: "button-group", role: "group", "aria-label": label },
    options.map((text, i) => el("button", {
      type: "button", "aria-pressed": String(pressed(i)), "data-key": `${keyPrefix}-${i}`, onclick: () => onPick(i),
    }, text)));
}
