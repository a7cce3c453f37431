// The UI's modules depend one way: main → app → views → controller/state, with dom, format, api,
// bindings and sound as leaves. This reads src/*.ts as text (type-only imports count too, since
// they tie modules together just the same) and fails on an import circle, on a module other than
// main.ts importing app.ts, and on a view importing another view.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";

/** Module name ("app") → the src modules it imports. */
function importGraph(): Map<string, string[]> {
  const site = process.env.SWITCHBOARD_UI_SITE;
  if (!site) throw new Error("run the tests with npm test (it sets SWITCHBOARD_UI_SITE to dist-test/, beside src/)");
  const src = join(dirname(site), "src");
  const names = readdirSync(src).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => f.slice(0, -3));
  const graph = new Map<string, string[]>();
  for (const name of names) {
    const text = readFileSync(join(src, `${name}.ts`), "utf8");
    // `import … from "./x"`, `export … from "./x"` (either may span lines) and `import "./x"`
    const specs = [...text.matchAll(/^\s*(?:(?:import|export)\b[^;]*?\bfrom|import)\s*["']\.\/([^"']+)["']/gm)].map((m) => m[1].replace(/\.ts$/, ""));
    graph.set(name, [...new Set(specs.filter((s) => names.includes(s)))]);
  }
  return graph;
}

/** Every circle a depth-first walk meets, as "a → b → a". */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (m: string): void => {
    const at = path.indexOf(m);
    if (at >= 0) {
      found.push([...path.slice(at), m].join(" → "));
      return;
    }
    if (done.has(m)) return;
    path.push(m);
    for (const next of graph.get(m) ?? []) visit(next);
    path.pop();
    done.add(m);
  };
  for (const m of graph.keys()) visit(m);
  return found;
}

test("src/ has no import circle", () => {
  assert.deepEqual(circles(importGraph()), []);
});

test("only main.ts imports app.ts", () => {
  const importers = [...importGraph()].filter(([, deps]) => deps.includes("app")).map(([m]) => m);
  assert.deepEqual(importers, ["main"]);
});

test("a view (a module that takes a Controller) imports no other view", () => {
  const graph = importGraph();
  const views = [...graph].filter(([m, deps]) => m !== "app" && deps.includes("controller")).map(([m]) => m);
  assert.ok(views.length >= 5, `views found: ${views.join(", ")}`);
  const crossings = views.flatMap((v) => graph.get(v)!.filter((d) => views.includes(d)).map((d) => `${v} → ${d}`));
  assert.deepEqual(crossings, []);
});
