// The console's build: one entry, hashed assets under /console/assets/, the SDK compiled from its source.
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "/console/",
  resolve: {
    alias: {
      // The SDK from source (no separate build step), and its one Node import swapped for the Web Crypto API.
      "@zapier-triggers/sdk": here("../sdks/typescript/src/index.ts"),
      "node:crypto": here("src/shims/node-crypto.ts"),
      // The SDK's Node WebSocket (`ws`): in the browser it uses the page's WebSocket instead.
      ws: here("src/shims/ws.ts"),
    },
  },
  define: {
    // The SDK reads TRIGGERS_API_KEY / TRIGGERS_BASE_URL / TRIGGERS_LOG from `process.env` when no option is given;
    // in the browser every option is given and the environment is empty.
    "process.env": "{}",
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: process.env["CONSOLE_OUT_DIR"] ?? here("../reference-server/src/triggers_server/console_dist"),
    emptyOutDir: true,
    // No inline scripts anywhere (the CSP has no 'unsafe-inline'): no module-preload polyfill, no inlined assets.
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
