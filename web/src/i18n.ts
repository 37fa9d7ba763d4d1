/** English and 中文: the language choice and the lookup of every string the page shows. */
import { EXPLAIN_STRINGS } from "./strings-explain.ts";
import { FILL_STRINGS } from "./strings-fill.ts";
import { STEP_STRINGS } from "./strings-steps.ts";
import { UI_STRINGS } from "./strings-ui.ts";

/** The page's languages. */
export type Lang = "en" | "zh";

/** Every string, by key: [English, 中文]. */
export const STRINGS = { ...UI_STRINGS, ...STEP_STRINGS, ...FILL_STRINGS, ...EXPLAIN_STRINGS };

/** A key of `STRINGS`. */
export type StringKey = keyof typeof STRINGS;

/** Values substituted for `{name}` placeholders. */
export type Vars = Record<string, string | number>;

/** Chinese for any zh-* preference that comes before an English one, else English. */
export function detectLanguage(preferences: readonly string[]): Lang {
  for (const p of preferences) {
    const tag = p.toLowerCase();
    if (tag.startsWith("zh")) return "zh";
    if (tag.startsWith("en")) return "en";
  }
  return "en";
}

/** The string `key` in `lang`, with `{name}` placeholders filled from `vars`. */
export function translate(lang: Lang, key: StringKey, vars: Vars = {}): string {
  const text = STRINGS[key][lang === "en" ? 0 : 1];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** A translator bound to one language (what views receive). */
export type Translator = (key: StringKey, vars?: Vars) => string;

/** Binds `translate` to a language. */
export function translator(lang: Lang): Translator {
  return (key, vars) => translate(lang, key, vars);
}

/** A class label in the page's language when it is a known one (positive, negative), else as the model names it. */
export function labelText(t: Translator, label: string): string {
  const key = `label.${label.toLowerCase()}`;
  return key in STRINGS ? t(key as StringKey) : label;
}
