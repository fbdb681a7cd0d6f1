// The npm tarball as a user gets it: `npm pack`, publint and @arethetypeswrong/cli on the tarball, then the
// tarball installed (prefer-offline: its one dependency, ws, comes from the npm cache when npm has its registry
// metadata, else from the registry, as a fresh CI machine needs) into fresh projects that use it the ways users do:
//   esm/        "type": "module", imports both entry points, type-checks examples/ (with @types/node) and runs;
//   cjs/        a CommonJS project that require()s both entry points and runs;
//   no-types/   TypeScript (tsc --strict, skipLibCheck off) without @types/node: an ES module and a .cts file
//               compiled and run, so both the import and the require types stand on their own.
// Usage: node scripts/check-pack.mjs [--out DIR]   (--out keeps the tarball in DIR; `nox -s release` uses dist/)
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const { values: args } = parseArgs({ options: { out: { type: "string" } } });
const work = mkdtempSync(join(tmpdir(), "triggers-sdk-pack-"));
const out = args.out === undefined ? work : resolve(args.out);
const run = (command, argv, cwd) => execFileSync(command, argv, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
/** run, but show the tool's own report only when it fails. */
const check = (command, argv, cwd) => {
  try {
    execFileSync(command, argv, { cwd, stdio: "pipe", encoding: "utf8" });
  } catch (error) {
    throw new Error(`${[command, ...argv].join(" ")} failed:\n${error.stdout}${error.stderr}`);
  }
};

/** A fresh project with the tarball installed from the file alone (no registry). */
const project = (name, manifest, tarball) => {
  const folder = join(work, name);
  mkdirSync(folder);
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, ...manifest }));
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], folder);
  return folder;
};

const tsconfig = (folder, compilerOptions, include) =>
  writeFileSync(
    join(folder, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, ...compilerOptions },
      include,
    }),
  );

// The same checks in every project, written once for a module system: `load` is how that system gets a package.
const smoke = (load) => `
const assert = ${load("node:assert/strict")};
const { TriggersClient, RateLimitError, APIStatusError, constants } = ${load("@zapier-triggers/sdk")};
const { Webhook } = ${load("@zapier-triggers/sdk/webhooks")};

async function main() {
  const sent = [];
  const client = new TriggersClient({
    apiKey: "tk_smoke",
    baseURL: "http://smoke.test/v1",
    fetch: async (url, init) => {
      sent.push({ url, init });
      return new Response(JSON.stringify({ id: "evt_1", type: "order.created" }), { status: 201 });
    },
  });
  const event = await client.events.create({ type: "order.created", source: "smoke", data: { order_id: "1" } });
  assert.equal(event.id, "evt_1");
  assert.equal(sent[0].url, "http://smoke.test/v1/events");
  assert.ok(new Headers(sent[0].init.headers).get("idempotency-key"));
  assert.ok(RateLimitError.prototype instanceof APIStatusError);
  assert.equal(constants.DEFAULT_MAX_RETRIES, 3);
  const webhook = new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", { now: () => 1614265330000 });
  assert.equal(webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  console.log("smoke ok");
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

// TypeScript without @types/node: only the fetch globals (lib "DOM") and what the package itself declares. The same
// source is an ES module as esm.ts and CommonJS as cjs.cts (its imports compile to require()).
const typedSmoke = `import { TriggersClient, APIStatusError, RateLimitError, type ClientOptions } from "@zapier-triggers/sdk";
import { Webhook } from "@zapier-triggers/sdk/webhooks";

declare const process: { exitCode?: number };

const sent: { url: string; init: RequestInit | undefined }[] = [];
const options: ClientOptions = {
  apiKey: "tk_smoke",
  baseURL: "http://smoke.test/v1",
  fetch: async (url, init) => {
    sent.push({ url: String(url), init });
    return new Response(JSON.stringify({ id: "evt_1", type: "order.created" }), { status: 201 });
  },
};
async function main(): Promise<void> {
  const client = new TriggersClient(options);
  const event = await client.events.create({ type: "order.created", source: "typed", data: { order_id: "1" } });
  if (event.id !== "evt_1" || sent[0]?.url !== "http://smoke.test/v1/events") throw new Error(\`unexpected \${event.id} \${sent[0]?.url}\`);
  const statusError: typeof APIStatusError = RateLimitError;
  if (!(statusError.prototype instanceof APIStatusError)) throw new Error("error hierarchy");
  const webhook = new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", { now: () => 1614265330000 });
  const signature: string = webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
  if (signature !== "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") throw new Error(signature);
  console.log("typed smoke ok");
}
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

try {
  // Build explicitly and pack without lifecycle scripts, so nothing but npm's JSON reaches stdout.
  run("npm", ["run", "--silent", "build"], root);
  mkdirSync(out, { recursive: true });
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", out], root));
  const tarball = join(out, packed.filename);
  const files = packed.files.map((file) => file.path).sort();
  for (const entry of ["index", "webhooks"]) {
    for (const required of [`dist/${entry}.js`, `dist/${entry}.d.ts`, `dist/cjs/${entry}.js`, `dist/cjs/${entry}.d.ts`]) {
      if (!files.includes(required)) throw new Error(`tarball lacks ${required}`);
    }
  }
  const stray = files.filter((file) => !file.startsWith("dist/") && !["package.json", "README.md"].includes(file));
  if (stray.length > 0) throw new Error(`tarball ships unexpected files: ${stray.join(", ")}`);

  check(bin("publint"), ["run", "--strict", tarball], root);
  check(bin("attw"), [tarball, "--format", "ascii"], root);

  const esm = project("esm", { type: "module" }, tarball);
  for (const file of readdirSync(join(root, "examples")).filter((name) => name.endsWith(".ts"))) {
    copyFileSync(join(root, "examples", file), join(esm, file));
  }
  tsconfig(esm, { lib: ["ES2023"], noEmit: true, types: ["node"], typeRoots: [join(root, "node_modules", "@types")] }, ["*.ts"]);
  check(bin("tsc"), ["-p", "tsconfig.json"], esm);
  writeFileSync(join(esm, "smoke.mjs"), smoke((specifier) => `(await import(${JSON.stringify(specifier)}))${specifier.startsWith("node:") ? ".default" : ""}`));
  run("node", ["smoke.mjs"], esm);

  const cjs = project("cjs", {}, tarball);
  writeFileSync(join(cjs, "smoke.js"), smoke((specifier) => `require(${JSON.stringify(specifier)})`));
  run("node", ["smoke.js"], cjs);

  const typed = project("no-types", { type: "module" }, tarball);
  writeFileSync(join(typed, "esm.ts"), typedSmoke);
  writeFileSync(join(typed, "cjs.cts"), typedSmoke);
  tsconfig(typed, { lib: ["ES2022", "DOM"], types: [], outDir: "out" }, ["esm.ts", "cjs.cts"]);
  check(bin("tsc"), ["-p", "tsconfig.json"], typed);
  run("node", ["out/esm.js"], typed);
  run("node", ["out/cjs.cjs"], typed);

  const kept = args.out === undefined ? "" : ` -> ${tarball}`;
  console.log(
    `check-pack: ${packed.filename} (${files.length} files, ${packed.size} bytes): publint, attw clean; ` +
      `installs and runs from ESM, CommonJS and TypeScript without @types/node${kept}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
