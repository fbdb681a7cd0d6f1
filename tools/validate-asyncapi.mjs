// Validates asyncapi.yaml with the AsyncAPI parser (pinned in package-lock.json), resolving its
// references into openapi.yaml. Run by `nox -s lint`: node tools/validate-asyncapi.mjs asyncapi.yaml
// Fails (exit 1) on any diagnostic of severity error or warning.
import { resolve } from "node:path";

import { Parser, fromFile } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate-asyncapi.mjs ASYNCAPI_FILE");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, resolve(file)).parse();
const severities = ["error", "warning", "info", "hint"];
let failed = document === undefined;
for (const d of diagnostics) {
  const level = severities[d.severity] ?? String(d.severity);
  if (d.severity <= 1) failed = true;
  console.log(`${level} ${d.code} ${d.path.join(".")}: ${d.message}`);
}
if (failed) {
  console.error(`asyncapi: ${file} is not valid`);
  process.exit(1);
}
// References into openapi.yaml must have resolved to real schemas, not dangling `$ref`s.
const event = document.messages().all().find((m) => m.name() === "event");
const fields = event?.payload()?.properties()?.event?.properties() ?? {};
if (!("sequence" in fields)) {
  console.error("asyncapi: the event frame's `event` did not resolve to openapi.yaml#/components/schemas/Event");
  process.exit(1);
}
const channels = document.channels().all().map((c) => c.address());
const messages = document.messages().all().length;
console.log(`asyncapi: ${file} valid (AsyncAPI ${document.version()}; channels ${channels.join(", ")}; ${messages} messages)`);
