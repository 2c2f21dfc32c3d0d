// ESLint for the browser code (chatbot/web/static): ES modules in the browser, no implicit globals,
// nothing undefined or unused. `npm run lint` runs it; `make lint` and so `make test` call that.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", "build/**", ".venv/**"] },
  js.configs.recommended,
  {
    files: ["chatbot/web/static/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "module", globals: globals.browser },
    rules: {
      "no-implicit-globals": "error",
      "no-unused-vars": ["error", { args: "after-used" }],
      eqeqeq: ["error", "smart"],
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
