// Builds the operator app's UI, or runs its browser tests.
//   node build.mjs          bundle src/main.ts (+ CSS) into dist/ with index.html (Tauri's frontendDist)
//   node build.mjs --test   bundle test/entry.ts (fake backend + the real app) into dist-test/,
//                           compile test/*.test.ts and run them with `node --test` (headless Chromium)
//   node build.mjs --test layout   the same, only the test files whose name contains "layout"
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2] ?? "--build";

async function bundle(entry, outdir, { minify }) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: entry },
    bundle: true,
    minify,
    sourcemap: minify ? false : "inline",
    format: "iife",
    target: ["es2020", "chrome105", "safari15"],
    platform: "browser",
    legalComments: "none",
    outdir,
    logLevel: "warning",
  });
  copyFileSync(join(here, "index.html"), join(outdir, "index.html"));
}

if (mode === "--build") {
  const out = join(here, "dist");
  await bundle(join(here, "src", "main.ts"), out, { minify: true });
  console.log(`built ${out}: ${readdirSync(out).join(", ")}`);
} else if (mode === "--test") {
  const site = join(here, "dist-test");
  await bundle(join(here, "test", "entry.ts"), site, { minify: false });
  // Compiled tests live under node_modules so that `playwright-core` resolves from them.
  const dir = join(here, "node_modules", ".cache", "switchboard-ui-tests");
  rmSync(dir, { recursive: true, force: true });
  const only = process.argv[3] ?? "";
  const tests = readdirSync(join(here, "test")).filter((f) => f.endsWith(".test.ts") && f.includes(only));
  await esbuild.build({
    entryPoints: tests.map((f) => join(here, "test", f)),
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const files = readdirSync(dir).filter((f) => f.endsWith(".mjs")).map((f) => join(dir, f));
  const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], {
    stdio: "inherit",
    env: { ...process.env, SWITCHBOARD_UI_SITE: site },
  });
  process.exitCode = run.status ?? 1;
} else {
  console.error(`unknown option ${mode}`);
  process.exit(2);
}
