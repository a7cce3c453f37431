// Test plumbing: serve dist-test/ on 127.0.0.1, drive headless Chromium with playwright-core.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { after, before } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { FakeBackend, Seed } from "./fake-backend";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

export interface Site {
  url: string;
  close(): Promise<void>;
}

export async function serve(root: string): Promise<Site> {
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^([/\\])+/, "");
    const file = join(root, path === "" || path === "." ? "index.html" : path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"],
  });
}

export interface Viewport {
  name: "phone" | "tablet" | "desktop";
  width: number;
  height: number;
  mobile: boolean;
}

export const VIEWPORTS: Viewport[] = [
  { name: "phone", width: 390, height: 844, mobile: true },
  { name: "tablet", width: 820, height: 1180, mobile: true },
  { name: "desktop", width: 1280, height: 800, mobile: false },
];

export interface AppPage {
  page: Page;
  context: BrowserContext;
  errors: string[];
  close(): Promise<void>;
}

export async function openApp(browser: Browser, site: Site, vp: Viewport, seed: Seed = { signedIn: true }, scale = 1): Promise<AppPage> {
  const context = await browser.newContext({
    viewport: { width: vp.width, height: vp.height },
    isMobile: vp.mobile,
    hasTouch: vp.mobile,
    deviceScaleFactor: scale,
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.addInitScript((s) => {
    (window as unknown as { __FAKE_SEED__: unknown }).__FAKE_SEED__ = s;
  }, seed);
  await page.goto(site.url);
  await page.waitForSelector("#app[aria-busy=false]");
  return { page, context, errors, close: () => context.close() };
}

/** The navigation button of a section (bottom bar on phones, rail on larger screens). */
/** Opens the app, runs `fn` on it, checks the page logged no errors, and closes it. */
export async function withOpenApp(browser: Browser, site: Site, vp: Viewport, fn: (a: AppPage) => Promise<void>,
  seed: Seed = { signedIn: true, available: true }): Promise<void> {
  const app = await openApp(browser, site, vp, seed);
  try {
    await fn(app);
    assert.deepEqual(app.errors, [], "no errors in the page");
  } finally {
    await app.close();
  }
}

export function navTo(page: Page, name: string | RegExp) {
  return page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name });
}

/** Runs `fn` against the page's fake backend (`fn` is sent as source: it may use only its arguments). */
export function fake<T>(page: Page, fn: (f: FakeBackend, arg: any) => T, arg?: unknown): Promise<T> {
  return page.evaluate(({ src, arg }) => {
    // eslint-disable-next-line no-new-func
    const f = new Function("f", "arg", `return (${src})(f, arg);`);
    return f(window.__fake, arg);
  }, { src: fn.toString(), arg }) as Promise<T>;
}

/** What a test file runs on: the built app served on 127.0.0.1, one headless Chromium, and
 *  the folder screenshots go to. */
export interface TestBed {
  readonly browser: Browser;
  readonly site: Site;
  readonly outDir: string;
}

/** Starts the test bed before the file's tests and stops it after them (call at the top of a
 *  test file; read its fields inside tests). */
export function testBed(): TestBed {
  let browser: Browser | undefined;
  let site: Site | undefined;
  let outDir = "";
  before(async () => {
    const root = process.env.SWITCHBOARD_UI_SITE;
    if (!root) throw new Error("run the tests with npm test (it builds dist-test/ and sets SWITCHBOARD_UI_SITE)");
    outDir = join(dirname(root), "test-output");
    mkdirSync(outDir, { recursive: true });
    site = await serve(root);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("the test bed starts before the tests");
    return v;
  };
  return {
    get browser() { return started(browser); },
    get site() { return started(site); },
    get outDir() { return outDir; },
  };
}
