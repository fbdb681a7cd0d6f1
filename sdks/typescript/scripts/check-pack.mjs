// `npm pack` works and a separate project can use the tarball: it installs it, type-checks examples/
// against the packed .d.ts files (tsc --strict), and runs a smoke test of the ESM entry points.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "triggers-sdk-pack-"));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

try {
  // Build explicitly and pack without lifecycle scripts, so nothing but npm's JSON reaches stdout.
  run("npm", ["run", "--silent", "build"], root);
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], root));
  const files = packed.files.map((file) => file.path).sort();
  for (const required of ["package.json", "dist/index.js", "dist/index.d.ts", "dist/webhooks.js", "dist/webhooks.d.ts"]) {
    if (!files.includes(required)) throw new Error(`tarball lacks ${required}`);
  }
  const stray = files.filter((file) => !file.startsWith("dist/") && !["package.json", "README.md"].includes(file));
  if (stray.length > 0) throw new Error(`tarball ships unexpected files: ${stray.join(", ")}`);

  const project = join(work, "consumer");
  run("mkdir", ["-p", project], work);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", join(work, packed.filename)], project);

  for (const file of readdirSync(join(root, "examples")).filter((name) => name.endsWith(".ts"))) {
    copyFileSync(join(root, "examples", file), join(project, file));
  }
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
      },
      include: ["*.ts"],
    }),
  );
  run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], project);

  writeFileSync(
    join(project, "smoke.mjs"),
    `
import assert from "node:assert/strict";
import { TriggersClient, RateLimitError, APIStatusError, constants } from "@zapier-triggers/sdk";
import { Webhook } from "@zapier-triggers/sdk/webhooks";

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
`,
  );
  run("node", ["smoke.mjs"], project);
  console.log(`check-pack: ${packed.filename} (${files.length} files, ${packed.size} bytes) installs, type-checks examples/ and runs`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
