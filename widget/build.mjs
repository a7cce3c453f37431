// Builds the widget into one minified IIFE, runs the unit tests, or checks that the committed
// bundle is up to date:
//   node build.mjs           write ../backend/assets/widget.js
//   node build.mjs --test    compile test/*.ts to a temp dir and run them with `node --test`
//   node build.mjs --check   fail if ../backend/assets/widget.js differs from a fresh build
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "backend", "assets", "widget.js");
const mode = process.argv[2] ?? "--build";

async function bundle() {
  const result = await esbuild.build({
    entryPoints: [join(here, "src", "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2019",
    platform: "browser",
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

if (mode === "--build") {
  const js = await bundle();
  writeFileSync(out, js);
  console.log(`wrote ${out} (${js.length} bytes)`);
} else if (mode === "--check") {
  const fresh = await bundle();
  let committed = null;
  try {
    committed = readFileSync(out);
  } catch {
    // missing counts as out of date
  }
  if (!committed || !committed.equals(fresh)) {
    console.error("backend/assets/widget.js is out of date: run npm run build in widget/");
    process.exit(1);
  }
  console.log("backend/assets/widget.js is up to date");
} else if (mode === "--test") {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-widget-test-"));
  try {
    const tests = readdirSync(join(here, "test")).filter((f) => f.endsWith(".test.ts"));
    await esbuild.build({
      entryPoints: tests.map((f) => join(here, "test", f)),
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      logLevel: "warning",
    });
    const files = readdirSync(dir).filter((f) => f.endsWith(".mjs")).map((f) => join(dir, f));
    const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
    process.exitCode = run.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.error(`unknown option ${mode}`);
  process.exit(2);
}
