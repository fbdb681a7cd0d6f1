// The API reference page at /docs: its HTML and configuration module built like the console (hashed, nothing
// inline), plus Scalar's standalone bundle copied unchanged from node_modules under a versioned name.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { defineConfig, type Plugin } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const SCALAR = here("node_modules/@scalar/api-reference");

/** Emit `assets/scalar-api-reference-<version>.js` and load it (a classic script) before the page's module. */
function vendoredScalar(): Plugin {
  const { version } = JSON.parse(readFileSync(`${SCALAR}/package.json`, "utf8")) as { version: string };
  const fileName = `assets/scalar-api-reference-${version}.js`;
  return {
    name: "vendored-scalar",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName, source: readFileSync(`${SCALAR}/dist/browser/standalone.js`) });
    },
    transformIndexHtml: {
      order: "post",
      handler: () => [{ tag: "script", attrs: { src: `/docs/${fileName}` }, injectTo: "head" }],
    },
  };
}

export default defineConfig({
  root: here("api-docs"),
  base: "/docs/",
  publicDir: false,
  plugins: [vendoredScalar()],
  build: {
    outDir: process.env["DOCS_OUT_DIR"] ?? here("../reference-server/src/triggers_server/docs_dist"),
    emptyOutDir: true,
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
