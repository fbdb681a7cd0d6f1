// Bundles one TypeScript SDK snippet (from the API reference's generated samples) into a Node ES module, with
// `@zapier-triggers/sdk` resolved to the SDK's source as the console's own build does, so a test can run it:
//   node console/tests/build-snippet.mjs SNIPPET.ts OUT_DIR   → OUT_DIR/snippet.mjs
import { fileURLToPath } from "node:url";

import { build } from "vite";

const [entry, outDir] = process.argv.slice(2);
if (entry === undefined || outDir === undefined) {
  console.error("usage: build-snippet.mjs SNIPPET.ts OUT_DIR");
  process.exit(2);
}
await build({
  configFile: false,
  logLevel: "error",
  resolve: { alias: { "@zapier-triggers/sdk": fileURLToPath(new URL("../../sdks/typescript/src/index.ts", import.meta.url)) } },
  build: {
    ssr: entry,
    outDir,
    emptyOutDir: true,
    target: "node20",
    rollupOptions: { output: { format: "es", entryFileNames: "snippet.mjs" } },
  },
});
