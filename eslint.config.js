// Lint: the recommended JS and TypeScript rules, plus the project's "no any in public APIs" rule.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // src/backend/wasm/assembly is AssemblyScript (compiled by asc, not valid TypeScript); generated/ is build output;
  // runs/ holds training outputs and scratch/ local experiments (both outside git)
  { ignores: ["dist/", "node_modules/", "test-output/", "web/dist/", "**/*.d.ts", "src/backend/wasm/assembly/", "src/backend/wasm/generated/", "runs/", "scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
