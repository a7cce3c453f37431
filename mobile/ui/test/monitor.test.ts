// The Visitors List / Site Monitor in headless Chromium against the fake backend, at phone and
// desktop size: it subscribes when shown and unsubscribes when left or hidden; the counts and
// the list follow the core's views; filters and sorts work; a row opens the visitor's profile
// with the pages seen; visitor-controlled text stays text; 10,000 visitors keep a few dozen
// rows in the DOM and scroll to the last one (the frame times are printed, not asserted).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { fake, navTo, VIEWPORTS, type AppPage, type Viewport, withOpenApp, testBed } from "./harness";

const bed = testBed();

const withApp = (vp: Viewport, fn: (a: AppPage) => Promise<void>): Promise<void> => withOpenApp(bed.browser, bed.site, vp, fn);

async function shot(page: Page, vp: Viewport, what: string): Promise<void> {
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await page.screenshot({ path: join(bed.outDir, `monitor-${vp.name}-${what}.png`) });
}

/** A few visitors in every chat state (one with markup for a name). */
function seedVisitors(page: Page): Promise<void> {
  return fake(page, (f) => {
    const now = Date.now();
    const olga = { id: 1, name: "Olga Berg" };
    f.setVisitors([
      f.siteVisitor(11, { name: "Anna Kovacs", arrived_at: now - 40 * 60_000, page: { url: "https://shop.example.com/bikes/red-racer", title: "Red Racer 3000 – the fastest bicycle money can buy, now with an extra long title" },
        search_terms: "red racing bike", referrer: "https://www.google.com/search?q=red+racing+bike", visits: 3, pages: 7, chat: { state: "chatting", chat_id: 5, operator: olga } }),
      f.siteVisitor(12, { name: "Zoe <img src=x onerror=alert(1)>", arrived_at: now - 20 * 60_000, page: { url: "https://shop.example.com/cart", title: "Your cart" }, chat: { state: "ringing", chat_id: 6 } }),
      f.siteVisitor(13, { name: null, arrived_at: now - 10 * 60_000, page: { url: "https://shop.example.com/help", title: "Help" }, chat: { state: "queued", chat_id: 7 }, visits: 2 }),
      f.siteVisitor(14, { name: "Bruno", arrived_at: now - 5 * 60_000, page: { url: "https://shop.example.com/", title: "Home" }, referrer: "https://news.example.org/article" }),
    ]);
  });
}

/** The names the list shows now, in order. */
function names(page: Page, wide: boolean): Promise<string[]> {
  return page.locator(wide ? ".vlist .vrow .vname-btn" : ".vlist .vrow .vname").allTextContents();
}

for (const vp of VIEWPORTS.filter((v) => v.name !== "tablet")) {
  const wide = vp.width >= 768;
  describe(`Visitors List at ${vp.name} size (${vp.width}×${vp.height})`, () => {
    test("subscribes when shown, shows the counts and the visitors, unsubscribes when left", () =>
      withApp(vp, async ({ page }) => {
        await seedVisitors(page);
        assert.equal((await fake(page, (f) => f.callsOf("monitor_open"))).length, 0, "nothing streams before the section is shown");
        await navTo(page, "Visitors List").click();
        await page.getByRole("heading", { name: "Visitors List", level: 1 }).waitFor();
        const counts = page.getByRole("group", { name: "Site Monitor" });
        await counts.getByText("On site").waitFor();
        assert.deepEqual(await counts.locator(".mcount-n").allTextContents(), ["4", "1", "2"]);
        assert.deepEqual(await names(page, wide), ["Anna Kovacs", "Zoe <img src=x onerror=alert(1)>", "Visitor 13", "Bruno"], "longest on the site first");
        assert.equal(await page.locator(".vlist img").count(), 0, "a visitor's name is text, never markup");
        await page.getByText("Red Racer 3000", { exact: false }).first().waitFor();
        await shot(page, vp, "list");

        // A change from the core shows at once.
        await fake(page, (f) => f.setVisitors(f.visitors.filter((v) => v.id !== 14)));
        await page.locator(".vlist").getByText("Bruno").waitFor({ state: "detached" });
        assert.equal(await counts.locator(".mcount-n").first().textContent(), "3");

        await navTo(page, "Reports").click();
        assert.equal((await fake(page, (f) => f.callsOf("monitor_close"))).length, 1, "leaving the section unsubscribes");
        assert.equal(await fake(page, (f) => f.monitorOpen), false);
      }));

    test("the app in the background unsubscribes, back in the foreground subscribes again", () =>
      withApp(vp, async ({ page }) => {
        await navTo(page, "Visitors List").click();
        await page.getByRole("group", { name: "Site Monitor" }).waitFor();
        const setHidden = (hidden: boolean) => page.evaluate((hidden) => {
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
        await setHidden(true);
        assert.equal(await fake(page, (f) => f.monitorOpen), false);
        await setHidden(false);
        assert.equal(await fake(page, (f) => f.monitorOpen), true);
        assert.equal((await fake(page, (f) => f.callsOf("monitor_open"))).length, 2);
      }));

    test("filters and sorts", () =>
      withApp(vp, async ({ page }) => {
        await seedVisitors(page);
        await navTo(page, "Visitors List").click();
        await page.getByRole("group", { name: "Site Monitor" }).waitFor();
        const show = page.getByLabel("Show");
        const sort = page.getByLabel("Sort by");
        await show.selectOption("waiting");
        await page.getByText("2 of 4 visitors").waitFor();
        assert.deepEqual(await names(page, wide), ["Zoe <img src=x onerror=alert(1)>", "Visitor 13"]);
        await show.selectOption("chatting");
        assert.deepEqual(await names(page, wide), ["Anna Kovacs"]);
        await show.selectOption("never");
        assert.deepEqual(await names(page, wide), ["Bruno"]);
        await show.selectOption("returning");
        assert.deepEqual(await names(page, wide), ["Anna Kovacs", "Visitor 13"]);
        await show.selectOption("page");
        await page.getByRole("searchbox", { name: "Page contains" }).fill("CART");
        await page.getByText("1 of 4 visitors").waitFor();
        assert.deepEqual(await names(page, wide), ["Zoe <img src=x onerror=alert(1)>"]);
        await page.getByRole("searchbox", { name: "Page contains" }).fill("nothing like this");
        await page.getByText("No visitors match this filter.").waitFor();
        await show.selectOption("all");
        await sort.selectOption("name");
        assert.deepEqual(await names(page, wide), ["Anna Kovacs", "Bruno", "Visitor 13", "Zoe <img src=x onerror=alert(1)>"]);
        await sort.selectOption("page");
        assert.deepEqual(await names(page, wide), ["Visitor 13", "Bruno", "Anna Kovacs", "Zoe <img src=x onerror=alert(1)>"], "Help, Home, Red Racer, Your cart");
      }));

    test("a row opens the visitor's profile with the pages seen; back returns to the list", () =>
      withApp(vp, async ({ page }) => {
        await seedVisitors(page);
        await navTo(page, "Visitors List").click();
        await page.getByRole("button", { name: "Anna Kovacs" }).click();
        const profile = page.getByRole("region", { name: "Profile of Anna Kovacs" });
        await profile.getByRole("heading", { name: "Anna Kovacs" }).waitFor();
        await profile.getByText("Searched “red racing bike”").waitFor();
        await profile.getByText("Chatting with Olga Berg").first().waitFor();
        await page.getByRole("list", { name: "Pages seen, most recent first" }).getByText("Your cart").waitFor();
        assert.deepEqual((await fake(page, (f) => f.callsOf("visitor_profile")))[0], { visitorId: 11 });
        assert.equal(await page.getByRole("form", { name: "Invite" }).count(), 0, "no Invite for a visitor who is chatting");
        // An earlier chat opens its transcript under it (and closes again).
        await fake(page, (f) => { f.addEnded({ id: 7, visitor_id: 11, visitor_name: "Anna Kovacs" }, ["Is the red one in stock?", "Yes, two left"]); });
        const earlier = page.getByRole("list", { name: "Earlier chats" }).getByRole("button").first();
        await earlier.click();
        await page.getByRole("log", { name: "Transcript" }).getByText("Is the red one in stock?").waitFor();
        assert.equal(await earlier.getAttribute("aria-expanded"), "true");
        await shot(page, vp, "profile-transcript");
        await earlier.click();
        assert.equal(await page.getByRole("log", { name: "Transcript" }).count(), 0);
        await shot(page, vp, "profile");
        await page.getByRole("button", { name: "Visitors List" }).first().click();
        await page.getByRole("button", { name: "Anna Kovacs" }).waitFor();
        assert.ok(await page.getByRole("button", { name: "Anna Kovacs" }).evaluate((el) => el === document.activeElement), "focus returns to the row");
      }));

    test("Invite: the default invitation with the operator's name, or a canned message, then Send", () =>
      withApp(vp, async ({ page }) => {
        await seedVisitors(page);
        await fake(page, (f) => {
          f.snap.canned = [{ id: 3, title: "Bikes on sale", text: "Our bikes are 20% off today!", updated_at: 1 }];
          f.changed();
        });
        await navTo(page, "Visitors List").click();
        await page.getByRole("button", { name: "Bruno" }).click();
        const form = page.getByRole("form", { name: "Invite" });
        const text = form.getByRole("textbox", { name: "Invitation" });
        await text.waitFor();
        assert.equal(await text.inputValue(), "Hello! I'm Olga Berg.", "%name% is the operator name for invitations");
        await form.getByRole("combobox", { name: "Canned" }).selectOption({ label: "Bikes on sale" });
        assert.equal(await text.inputValue(), "Our bikes are 20% off today!");
        await text.fill("Hi Bruno, need a hand?");
        // A new view from the core does not lose what the operator typed.
        await fake(page, (f) => f.setVisitors([...f.visitors]));
        assert.equal(await text.inputValue(), "Hi Bruno, need a hand?");
        const send = form.getByRole("button", { name: "Send" });
        if (vp.mobile) assert.ok(((await send.boundingBox())?.height ?? 0) >= 44, "Send is at least 44 px");
        await send.click();
        await form.getByText("Invitation sent.").waitFor();
        assert.deepEqual((await fake(page, (f) => f.callsOf("invite_visitor")))[0], { visitorId: 14, text: "Hi Bruno, need a hand?" });
        await shot(page, vp, "invite");
      }));

    test("10,000 visitors: a few dozen rows in the DOM, the last one reachable", () =>
      withApp(vp, async ({ page }) => {
        await navTo(page, "Visitors List").click();
        await page.getByRole("group", { name: "Site Monitor" }).waitFor();
        const t0 = Date.now();
        await fake(page, (f) => f.manyVisitors(10_000));
        await page.getByText("10000 visitors, longest on the site first").waitFor();
        const firstRender = Date.now() - t0;
        const rows = await page.locator(".vlist .vrow").count();
        assert.ok(rows > 0 && rows <= 60, `${rows} rows in the DOM`);
        // Frame times: a view of 10,000 arriving again (filter + sort + draw), and scrolling.
        const times = await page.evaluate(async () => {
          const list = document.querySelector<HTMLElement>(".vlist")!;
          const frame = () => new Promise<number>((ok) => requestAnimationFrame((t) => ok(t)));
          const scrolls: number[] = [];
          await frame();
          for (let i = 1; i <= 30; i++) {
            const start = performance.now();
            list.scrollTop = (list.scrollHeight * i) / 30;
            await frame();
            await frame();
            scrolls.push(performance.now() - start);
          }
          const sorted = [...scrolls].sort((a, b) => a - b);
          return { median: sorted[15], worst: sorted[29] };
        });
        const update = await page.evaluate(async () => {
          const select = document.querySelector<HTMLSelectElement>("[data-fk=monitor-sort]")!;
          const start = performance.now();
          select.value = "name";
          select.dispatchEvent(new Event("change"));
          await new Promise((ok) => requestAnimationFrame(ok));
          return performance.now() - start;
        });
        console.log(`[monitor ${vp.name}] 10,000 visitors: first view shown in ${firstRender} ms (IPC + render); ` +
          `scroll frame median ${times.median.toFixed(1)} ms, worst ${times.worst.toFixed(1)} ms (two frames each); re-sort by name + draw ${update.toFixed(1)} ms`);
        await page.evaluate(() => {
          const select = document.querySelector<HTMLSelectElement>("[data-fk=monitor-sort]")!;
          select.value = "time";
          select.dispatchEvent(new Event("change"));
          const list = document.querySelector<HTMLElement>(".vlist")!;
          list.scrollTop = list.scrollHeight;
        });
        const lastName = "Visitor 10000";
        await page.locator(".vlist").getByText(lastName, { exact: true }).waitFor();
        const box = await page.locator(".vlist").getByText(lastName, { exact: true }).boundingBox();
        const listBox = await page.locator(".vlist").boundingBox();
        assert.ok(box && listBox && box.y >= listBox.y && box.y + box.height <= listBox.y + listBox.height + 1, "the last visitor is in view");
        assert.ok((await page.locator(".vlist .vrow").count()) <= 60);
        await shot(page, vp, "10000-end");
      }));
  });
}
