// Reports (issue 13) in headless Chromium against the fake backend's scripted figures
// (test/fake-reports.ts): the charts draw what the report says (a bar a day, heights in
// proportion, the table the same numbers), the period and operator pickers ask for what they
// show, a bar or a tile opens the chats behind it (a page at a time, each with its transcript,
// the phones rung for a chat nobody took), CSV downloads, offline, and the layout at phone,
// tablet and desktop sizes with long names and addresses. Screenshots go to test-output/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import type { Report } from "../src/bindings";
import { LONG_OPERATOR, LONG_VISITOR } from "./fake-reports";
import { fake, navTo, type AppPage, type Viewport, withOpenApp, testBed } from "./harness";
import { layoutProblems } from "./layout-check";

const bed = testBed();

const PHONE: Viewport = { name: "phone", width: 360, height: 740, mobile: true };
const DESKTOP: Viewport = { name: "desktop", width: 1280, height: 800, mobile: false };
const SIZES: Viewport[] = [PHONE, { name: "phone", width: 390, height: 844, mobile: true }, { name: "tablet", width: 768, height: 1024, mobile: true }, DESKTOP];

const ADMIN = { signedIn: true, available: true, admin: true };
const withApp = (vp: Viewport, fn: (a: AppPage) => Promise<void>, seed = ADMIN): Promise<void> => withOpenApp(bed.browser, bed.site, vp, fn, seed);

/** Opens Reports and waits for the first report (the last 7 days). */
async function openReports(page: Page): Promise<void> {
  await navTo(page, /^Reports/).click();
  await page.getByText("24 Nov – 30 Nov 2026", { exact: true }).waitFor();
}

const calls = (page: Page, cmd: string) => fake(page, (f, c) => f.callsOf(c), cmd);
const lastCall = async (page: Page, cmd: string) => (await calls(page, cmd)).at(-1);
const lastReport = (page: Page) => fake(page, (f) => f.reports.last!) as Promise<Report>;

/** Waits until the fake has answered `n` calls of `cmd` (the UI asks asynchronously). */
async function waitCalls(page: Page, cmd: string, n: number): Promise<void> {
  await page.waitForFunction(([c, n]) => window.__fake.callsOf(c as string).length >= (n as number), [cmd, n] as const);
}

function chartCard(page: Page, title: string): Locator {
  return page.locator("section.chart-card").filter({ has: page.getByRole("heading", { name: title, exact: true }) });
}

/** Each bar's drawn height (px) and its total (`data-total`). */
function bars(card: Locator): Promise<Array<{ height: number; total: number; acc: number }>> {
  return card.locator("svg .bar").evaluateAll((gs) => gs.map((g) => ({
    height: g.getBoundingClientRect().height,
    total: Number(g.getAttribute("data-total")),
    acc: g.querySelector("rect.s-acc")?.getBoundingClientRect().height ?? 0,
  })));
}

/** The chart's visible labels under the bars: their text, and whether any two touch. */
function ticks(card: Locator): Promise<{ texts: string[]; overlaps: string[] }> {
  return card.locator(".chart-x").evaluate((x) => {
    const shown = Array.from(x.querySelectorAll<HTMLElement>(".chart-tick")).filter((t) => t.checkVisibility())
      .map((t) => ({ text: (t.innerText ?? "").replace(/\s+/g, " ").trim(), r: t.getBoundingClientRect() }))
      .sort((a, b) => a.r.left - b.r.left);
    const overlaps: string[] = [];
    for (let i = 1; i < shown.length; i++) if (shown[i].r.left < shown[i - 1].r.right + 1) overlaps.push(`${shown[i - 1].text} / ${shown[i].text}`);
    return { texts: shown.map((s) => s.text), overlaps };
  });
}

/** The rows of a table as text, cell by cell. */
function rows(table: Locator): Promise<string[][]> {
  return table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c as HTMLElement).innerText.trim())));
}

async function shot(page: Page, vp: Viewport, what: string): Promise<void> {
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await page.screenshot({ path: join(bed.outDir, `reports-${vp.width}x${vp.height}-${what}.png`) });
}

/** The whole section, a screen at a time (the content scrolls inside the app's shell):
 *  `what-1.png`, `what-2.png`… */
async function shotWhole(page: Page, vp: Viewport, what: string): Promise<void> {
  const content = page.locator(".content");
  const n = await content.evaluate((c) => Math.ceil((c.scrollHeight - 40) / (c.clientHeight - 40)));
  for (let i = 0; i < Math.min(n, 10); i++) {
    await content.evaluate((c, i) => { c.scrollTop = i * (c.clientHeight - 40); }, i);
    await shot(page, vp, `${what}-${i + 1}`);
  }
  await content.evaluate((c) => { c.scrollTop = 0; });
}

async function check(page: Page, vp: Viewport): Promise<void> {
  const problems = await page.evaluate(layoutProblems, { scope: null, minTarget: vp.mobile ? 44 : 0, scrollX: ":not(*)", narrow: ".chart-hit" });
  assert.deepEqual(problems, [], `layout problems at ${vp.width}×${vp.height}`);
}

/** Two ratios agree to within 0.02 (a bar's height to another's, as their numbers are). */
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 0.02, `${what}: ${a.toFixed(3)} is not ${b.toFixed(3)}`);

for (const vp of [PHONE, DESKTOP]) {
  describe(`reports at ${vp.width}×${vp.height}`, () => {
    test("the charts draw the scripted figures: a bar a day, heights in proportion, the table says the same", () =>
      withApp(vp, async ({ page }) => {
        await openReports(page);
        assert.deepEqual(await calls(page, "report"), [{ query: { period: "last_7_days" } }], "Last 7 days by default");
        await page.getByText("Europe/Paris").first().waitFor();
        const r = await lastReport(page);

        // tiles
        const tile = (name: string) => page.locator(".tile").filter({ has: page.locator(".tile-label", { hasText: new RegExp(`^${name}`) }) });
        assert.equal(await tile("Requested").locator(".tile-value").innerText(), String(r.totals.requested));
        assert.equal(await tile("Visitor left").locator(".tile-value").innerText(), String(r.totals.missed));
        assert.equal(await tile("Unanswered").locator(".tile-value").innerText(), String(r.totals.unanswered));
        assert.equal(await tile("Left a message").locator(".tile-value").innerText(), String(r.totals.left_message));
        assert.equal(await tile("Invitations accepted").locator(".tile-value").innerText(), String(r.totals.invitations_accepted));
        assert.equal(await tile("Voice calls").locator(".tile-value").innerText(), String(r.totals.voice_calls));
        assert.equal(await tile("Time to answer").locator(".tile-value").innerText(), "45\u00A0s");
        assert.match(await tile("Time to answer").innerText(), /9 in 10 within 3 min 20 s/);
        assert.equal(await tile("Chat length").locator(".tile-value").innerText(), "6\u00A0min\u00A020\u00A0s");
        assert.match(await tile("Chat length").innerText(), /9 in 10 within 1 h 5 min/);
        assert.equal(await page.locator(".chip.team").count(), 0, "the team's figures need no note for the team");

        // chats per day: a bar a day, each as high as its requests
        const days = chartCard(page, "Chats per day");
        const img = days.getByRole("img");
        assert.match((await img.getAttribute("aria-label"))!, /^Bar chart of chats per day, 24 Nov – 30 Nov 2026: \d+ requested/);
        const b = await bars(days);
        assert.equal(b.length, 7);
        assert.deepEqual(b.map((x) => x.total), r.days.map((d) => d.counts.requested));
        const hi = b.reduce((m, x, i) => (x.total > b[m].total ? i : m), 0);
        const lo = b.reduce((m, x, i) => (x.total < b[m].total ? i : m), 0);
        assert.ok(b[hi].total > b[lo].total);
        near(b[lo].height / b[hi].height, b[lo].total / b[hi].total, "the lowest bar to the highest");
        // the axis tops at 1, 2 or 5 × 10ⁿ: the highest bar fills the plot as its number fills the axis
        const plot = await days.locator(".chart-plot").evaluate((p) => p.getBoundingClientRect().height);
        const axisTop = Number(await days.locator(".chart-y span").last().innerText());
        assert.ok([10, 20, 50].includes(axisTop), `the axis tops at ${axisTop}`);
        near(b[hi].height / plot, b[hi].total / axisTop, "the highest bar to the plot");
        near(b[hi].acc / b[hi].height, r.days[hi].counts.accepted / r.days[hi].counts.requested, "the accepted part of a bar");
        assert.equal(await days.locator(".chart-hit").count(), 7, "a button per bar");
        assert.equal(await days.locator(".chart-hit").nth(3).getAttribute("aria-label"),
          `Fri 27 Nov: ${r.days[3].counts.requested} requested, ${r.days[3].counts.accepted} accepted, ${r.days[3].counts.missed} visitor left, ${r.days[3].counts.unanswered} unanswered. Show the chats.`);
        const t = await ticks(days);
        assert.deepEqual(t.texts, ["24 Tue", "25 Wed", "26 Thu", "27 Fri", "28 Sat", "29 Sun", "30 Mon"]);
        assert.deepEqual(t.overlaps, []);

        // the same as a table
        await days.getByRole("button", { name: "Table" }).click();
        const table = days.getByRole("table");
        await table.waitFor();
        assert.equal(await days.getByRole("button", { name: "Table" }).getAttribute("aria-pressed"), "true");
        assert.deepEqual(await rows(table), r.days.map((d) => [
          `${Number(d.label.slice(8))} Nov`, String(d.counts.requested), String(d.counts.accepted), String(d.counts.missed), String(d.counts.unanswered)]));
        assert.equal(await days.getByRole("img").count(), 0, "the table replaces the drawing");
        await days.getByRole("button", { name: "Table" }).click();
        await days.getByRole("img").waitFor();

        // busiest hours: 24 bars, every third hour labelled on a phone
        const hours = chartCard(page, "Busiest hours");
        const hb = await bars(hours);
        assert.equal(hb.length, 24);
        assert.deepEqual(hb.map((x) => x.total), r.hours.map((h) => h.counts.requested));
        const h15 = hb[15];
        const h9 = hb[9];
        near(h9.height / h15.height, h9.total / h15.total, "9:00 to 15:00");
        const ht = await ticks(hours);
        assert.deepEqual(ht.texts, vp.width < 768 ? ["00", "03", "06", "09", "12", "15", "18", "21"] : Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0")));
        assert.deepEqual(ht.overlaps, []);
        await hours.getByRole("button", { name: "Table" }).click();
        const hrows = await rows(hours.getByRole("table"));
        assert.equal(hrows.length, 24);
        assert.deepEqual(hrows[15], ["15:00", ...[r.hours[15].counts.requested, r.hours[15].counts.accepted, r.hours[15].counts.missed, r.hours[15].counts.unanswered].map(String)]);

        // per operator: most chats first, the long name whole, time Available in words
        const ops = chartCard(page, "Per operator").getByRole("table");
        const orows = await rows(ops);
        assert.equal(orows.length, 4);
        assert.match(orows[0][0], /^Olga Berg/);
        assert.equal(orows[1][0], LONG_OPERATOR);
        const olga = r.operators.find((o) => o.operator.id === 1)!;
        assert.deepEqual(orows[0].slice(1).map((c) => c.replace(/^.*\n/, "")), [String(olga.chats), String(olga.messages), String(olga.declined), "45 s", "3 h 20 min"]);
        assert.match(orows[3].join(" "), /—/, "no answer time: a dash");
        const widths = await ops.locator(".op-bar > span").evaluateAll((s) => s.map((x) => x.getBoundingClientRect().width));
        near(widths[2] / widths[0], r.operators[2].chats / r.operators[0].chats, "an operator's bar to the first's");
        await shot(page, vp, "figures");
      }));

    test("the period and operator pickers ask for what they show", () =>
      withApp(vp, async ({ page }) => {
        await openReports(page);
        const period = page.getByRole("group", { name: "Period" });
        const reportCalls = async (n: number) => {
          await waitCalls(page, "report", n);
          return lastCall(page, "report");
        };

        await period.getByRole("button", { name: "Today" }).click();
        assert.deepEqual(await reportCalls(2), { query: { period: "today" } });
        await page.getByText("30 Nov 2026", { exact: true }).waitFor();
        assert.equal(await period.getByRole("button", { name: "Today" }).getAttribute("aria-pressed"), "true");
        // a single day: chats per hour, no separate busiest hours
        const perHour = chartCard(page, "Chats per hour");
        assert.equal((await bars(perHour)).length, 24);
        assert.equal(await chartCard(page, "Busiest hours").count(), 0);

        await period.getByRole("button", { name: "Yesterday" }).click();
        assert.deepEqual(await reportCalls(3), { query: { period: "yesterday" } });
        await page.getByText("29 Nov 2026", { exact: true }).waitFor();

        await period.getByRole("button", { name: "Last 30 days" }).click();
        assert.deepEqual(await reportCalls(4), { query: { period: "last_30_days" } });
        await page.getByText("1 Nov – 30 Nov 2026", { exact: true }).waitFor();
        const days = chartCard(page, "Chats per day");
        assert.equal((await bars(days)).length, 30);
        const t = await ticks(days);
        assert.deepEqual(t.overlaps, []);
        if (vp.width < 768) assert.deepEqual(t.texts, ["1 Nov", "8", "15", "22", "29"], "a label a week on a phone");
        else assert.equal(t.texts.length, 30);
        await shot(page, vp, "30-days");

        // custom: two dates and Apply; nothing is asked until the range makes sense
        await period.getByRole("button", { name: "Custom" }).click();
        const form = page.getByRole("form", { name: "Custom period" });
        assert.equal(await form.getByLabel("From").inputValue(), "2026-11-01", "starts from the days shown");
        await form.getByLabel("From").fill("2026-11-15");
        await form.getByLabel("To").fill("2026-11-02");
        await form.getByRole("button", { name: "Apply" }).click();
        await form.getByRole("alert").getByText("“To” is before “From”.").waitFor();
        assert.equal((await calls(page, "report")).length, 4, "nothing asked");
        await form.getByLabel("From").fill("2026-11-02");
        await form.getByLabel("To").fill("2026-11-15");
        await form.getByRole("button", { name: "Apply" }).click();
        assert.deepEqual(await reportCalls(5), { query: { from: "2026-11-02", to: "2026-11-15" } });
        await page.getByText("2 Nov – 15 Nov 2026", { exact: true }).waitFor();
        assert.equal((await bars(chartCard(page, "Chats per day"))).length, 14);

        // the server refuses a range: its words show, with Retry
        await fake(page, (f) => f.failNext("report", "invalid_input", "A report covers at most 366 days."));
        await page.getByRole("button", { name: "Refresh report" }).click();
        await page.getByRole("alert").filter({ hasText: "A report covers at most 366 days." }).getByRole("button", { name: "Retry" }).click();
        await page.getByRole("alert").filter({ hasText: "366 days" }).waitFor({ state: "detached" });

        // an admin picks any operator; the team's figures say they are the team's
        const pick = page.getByLabel("Operator", { exact: true });
        assert.deepEqual(await pick.locator("option").allTextContents(),
          ["All operators", "Bartholomew Christopherson-Montgomery-Fitzwilliam", LONG_OPERATOR, "Olga Berg", "Pat Kim"]);
        const before = (await calls(page, "report")).length;
        await pick.selectOption({ label: LONG_OPERATOR });
        assert.deepEqual(await reportCalls(before + 1), { query: { from: "2026-11-02", to: "2026-11-15", operator: 2 } });
        await page.locator(".team-note").getByText(LONG_OPERATOR).waitFor();
        const r = await lastReport(page);
        const requested = page.locator(".tile.requested");
        assert.match(await requested.innerText(), /Team/);
        assert.equal(await requested.locator(".tile-value").innerText(), String(r.totals.requested));
        assert.equal(await page.locator(".tile.accepted .chip.team").count(), 0, "Accepted is the operator's");
        assert.equal(await page.locator(".tile.accepted .tile-value").innerText(), String(r.totals.accepted));
        await shot(page, vp, "one-operator");
        await pick.selectOption({ label: "All operators" });
        assert.deepEqual(await reportCalls(before + 2), { query: { from: "2026-11-02", to: "2026-11-15" } });
        await page.locator(".team-note").waitFor({ state: "detached" });
      }));

    test("an operator who is not an admin chooses between the team and themselves", () =>
      withApp(vp, async ({ page }) => {
        await openReports(page);
        const pick = page.getByLabel("Operator", { exact: true });
        assert.deepEqual(await pick.locator("option").allTextContents(), ["Team", "Me"]);
        assert.equal((await rows(chartCard(page, "Per operator").getByRole("table"))).length, 1, "only their own line");
        await pick.selectOption({ label: "Me" });
        await waitCalls(page, "report", 2);
        assert.deepEqual(await lastCall(page, "report"), { query: { period: "last_7_days", operator: 1 } });
        await page.locator(".team-note").getByText("Olga Berg").waitFor();
      }, { signedIn: true, available: true, admin: false }));

    test("a bar opens its day's chats: More pages, a transcript opens, the phones rung for a missed chat", () =>
      withApp(vp, async ({ page }) => {
        await openReports(page);
        const days = chartCard(page, "Chats per day");
        await days.locator(".chart-hit").nth(3).click();
        await page.getByRole("heading", { name: "Requested", level: 1 }).waitFor();
        await waitCalls(page, "report_chats", 1);
        assert.deepEqual(await calls(page, "report_chats"), [{ query: { period: "last_7_days", figure: "requested", day: "2026-11-27", limit: 50 } }]);
        await page.getByText("Fri 27 Nov 2026 · Europe/Paris").waitFor();
        const list = page.getByRole("list", { name: /^Chats: Requested/ });
        const names = () => list.locator(".rchat-name").allInnerTexts();
        await list.getByText("Anna Kovacs").waitFor();
        assert.deepEqual(await names(), [LONG_VISITOR, "Anna Kovacs", "Visitor"]);
        assert.deepEqual(await list.locator(".chip.status").allInnerTexts(), ["Visitor left", "Ended by the visitor", "Unanswered"]);
        const anna = list.locator("li").nth(1);
        assert.match(await anna.innerText(), /Olga Berg · Waited\s45\ss · Lasted\s3\smin\s20\ss · 5 from the visitor, 7 from operators/);
        assert.match(await anna.locator("time").innerText(), /^\d\d:\d\d$/, "a day's chats show their time");
        assert.equal(await anna.getByRole("button", { name: "Phones rung" }).count(), 0, "only for chats nobody took");

        // More: the next page after the last chat shown
        await page.getByRole("button", { name: "More" }).click();
        await list.getByText("Dora Novak").waitFor();
        assert.deepEqual(await lastCall(page, "report_chats"), { query: { period: "last_7_days", figure: "requested", day: "2026-11-27", limit: 50, after: 703 } });
        assert.deepEqual(await names(), [LONG_VISITOR, "Anna Kovacs", "Visitor", "Bruno Silva", "Chen Wei", "Dora Novak"]);

        // the phones rung about the missed chat
        const missed = list.locator("li").first();
        await missed.getByRole("button", { name: "Phones rung" }).click();
        const pushes = missed.getByRole("list", { name: "Phones rung" });
        await pushes.waitFor();
        assert.deepEqual(await lastCall(page, "report_pushes"), { chatId: 701 });
        assert.equal(await missed.getByRole("button", { name: "Phones rung" }).getAttribute("aria-expanded"), "true");
        const items = await pushes.locator("li").allInnerTexts();
        assert.equal(items.length, 3);
        assert.match(items[0], /Olga Berg\nPixel 8 · Android \(FCM\)\nRung · queued \d\d:\d\d:\d\d\nDelivered at \d\d:\d\d:\d\d\n1 attempt/);
        assert.match(items[1], new RegExp(`${LONG_OPERATOR}\\niPhone 15 Pro of ${LONG_OPERATOR} · iPhone or iPad \\(APNs\\)`));
        assert.match(items[1], /Failed: BadDeviceToken\n2 attempts · last: BadDeviceToken/);
        assert.match(items[2], /Pat Kim\nAndroid \(FCM\)\n.*\nNot delivered yet\n0 attempts/);
        await missed.scrollIntoViewIfNeeded();
        await shot(page, vp, "drill-pushes");

        // the next day, one tap away
        await page.getByRole("button", { name: "Next day: 28 Nov" }).click();
        await page.getByText("Sat 28 Nov 2026 · Europe/Paris").waitFor();
        await waitCalls(page, "report_chats", 3);
        assert.deepEqual(await lastCall(page, "report_chats"), { query: { period: "last_7_days", figure: "requested", day: "2026-11-28", limit: 50 } });
        // another figure, the same day
        await page.getByLabel("Show").selectOption({ label: "Visitor left" });
        await waitCalls(page, "report_chats", 4);
        assert.deepEqual(await lastCall(page, "report_chats"), { query: { period: "last_7_days", figure: "missed", day: "2026-11-28", limit: 50 } });
        await page.getByRole("list", { name: /^Chats: Visitor left/ }).getByText("Dora Novak").waitFor();
        await page.getByLabel("Show").selectOption({ label: "Requested" });
        await waitCalls(page, "report_chats", 5);

        // a chat's transcript, and back to where it was
        await page.getByRole("list", { name: /^Chats: Requested/ }).getByRole("button", { name: /Anna Kovacs/ }).click();
        await page.getByRole("log", { name: "Transcript of the chat with Anna Kovacs" }).getByText("Hello, this is chat 702. Is the Red Racer in stock?").waitFor();
        assert.deepEqual(await lastCall(page, "transcript"), { chatId: 702 });
        await page.getByRole("heading", { name: "Anna Kovacs", level: 1 }).waitFor();
        await shot(page, vp, "transcript");
        await page.locator("[data-fk=transcript-back]").click();
        await page.getByRole("list", { name: /^Chats: Requested/ }).waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-fk")), "rchat-702", "focus back on the chat");

        // a missed chat's transcript lists the phones rung
        await page.getByRole("list", { name: /^Chats: Requested/ }).getByRole("button", { name: new RegExp(LONG_VISITOR) }).click();
        await page.getByRole("heading", { name: "Phones rung" }).waitFor();
        await page.getByRole("list", { name: "Phones rung" }).getByText("Failed: BadDeviceToken").waitFor();
        await shot(page, vp, "transcript-missed");
        await page.locator("[data-fk=transcript-back]").click();

        // back to the report: the bar that was tapped has the focus
        await page.locator("[data-fk=drill-back]").click();
        await days.waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-fk")), "chart-chats-3");
        assert.equal(await page.getByRole("list", { name: "Offline messages" }).isVisible(), true, "the offline messages are back under the report");

        // a tile: the figure over the whole period
        await page.locator(".tile.missed").click();
        await page.getByRole("heading", { name: "Visitor left", level: 1 }).waitFor();
        await waitCalls(page, "report_chats", 6);
        assert.deepEqual(await lastCall(page, "report_chats"), { query: { period: "last_7_days", figure: "missed", limit: 50 } });
        await page.getByText("24 Nov – 30 Nov 2026 · Europe/Paris").waitFor();
        const whole = page.getByRole("list", { name: /^Chats: Visitor left/ });
        await whole.getByText("Dora Novak").waitFor();
        assert.match(await whole.locator("time").first().innerText(), /^\d{1,2} Nov, \d\d:\d\d$/, "a period's chats show their day");
        assert.equal(await page.getByRole("button", { name: "More" }).count(), 0, "one page");
        await page.locator("[data-fk=drill-back]").click();

        // a busiest-hours bar: that hour on every day
        await chartCard(page, "Busiest hours").locator(".chart-hit").nth(14).click();
        await waitCalls(page, "report_chats", 7);
        assert.deepEqual(await lastCall(page, "report_chats"), { query: { period: "last_7_days", figure: "requested", hour: 14, limit: 50 } });
        await page.getByText("14:00–15:00 on each day, 24 Nov – 30 Nov 2026 · Europe/Paris").waitFor();
        await page.getByRole("button", { name: "Previous hour: 13:00" }).waitFor();
      }));

    test("CSV: each table saved with the report's query, the BOM when ticked, and the path shown", () =>
      withApp(vp, async ({ page }) => {
        await openReports(page);
        const box = page.getByRole("checkbox", { name: "For Excel (UTF-8 with BOM)" });
        assert.equal(await box.isChecked(), false);
        await box.check();
        await page.getByRole("button", { name: "Download chats (CSV)" }).click();
        const saved = page.getByRole("status").filter({ hasText: "Saved to" });
        await saved.getByText("/storage/emulated/0/Download/Switchboard/switchboard-chats-last_7_days-excel.csv").waitFor();
        assert.deepEqual(await calls(page, "export_report"), [{ table: "chats", query: { period: "last_7_days" }, bom: true }]);
        await box.uncheck();
        await page.getByLabel("Operator", { exact: true }).selectOption({ label: "Pat Kim" });
        await waitCalls(page, "report", 2);
        await page.getByRole("button", { name: "Days (CSV)" }).click();
        await saved.getByText("switchboard-days-last_7_days-operator-3.csv", { exact: false }).waitFor();
        assert.deepEqual(await lastCall(page, "export_report"), { table: "days", query: { period: "last_7_days", operator: 3 }, bom: false });
        await page.getByRole("button", { name: "Operators (CSV)" }).click();
        await saved.getByText("switchboard-operators-", { exact: false }).waitFor();
        assert.equal((await lastCall(page, "export_report"))?.table, "operators");
        await shot(page, vp, "csv-saved");
        // a failure says why, and Retry saves again
        await fake(page, (f) => f.failNext("export_report", "internal", "The downloads folder is full."));
        await page.getByRole("button", { name: "Hours (CSV)" }).click();
        await page.getByRole("alert").filter({ hasText: "The downloads folder is full." }).getByRole("button", { name: "Retry" }).click();
        await saved.getByText("switchboard-hours-", { exact: false }).waitFor();
      }));

    test("offline: Reports say they need the server, and load once it is back", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.setConnection("offline"));
        await navTo(page, /^Reports/).click();
        const alert = page.getByRole("alert").filter({ hasText: "Reports need a connection to the server." });
        await alert.waitFor();
        await alert.getByRole("button", { name: "Retry" }).click();
        await waitCalls(page, "report", 2);
        await alert.waitFor();
        // the offline messages are still there below
        await page.getByRole("list", { name: "Offline messages" }).getByText("Pia Lund").waitFor();
        await shot(page, vp, "offline");
        await fake(page, (f) => f.setConnection("online"));
        await page.getByText("24 Nov – 30 Nov 2026", { exact: true }).waitFor();
        await alert.waitFor({ state: "detached" });
      }));
  });
}

for (const vp of SIZES) {
  test(`reports layout at ${vp.width}×${vp.height}: nothing wider than the screen, controls big enough, labels apart`, () =>
    withApp(vp, async ({ page }) => {
      await fake(page, (f) => f.leaveOfflineMessage({ name: "Konstantinos Papadopoulos-Christodoulopoulos", text: "Please call me back." }));
      await openReports(page);
      await check(page, vp);
      await shotWhole(page, vp, "layout-report");
      // the charts' labels never touch, on any chart at this size
      for (const title of ["Chats per day", "Busiest hours"]) assert.deepEqual((await ticks(chartCard(page, title))).overlaps, [], title);
      // as tables
      await chartCard(page, "Chats per day").getByRole("button", { name: "Table" }).click();
      await chartCard(page, "Busiest hours").getByRole("button", { name: "Table" }).click();
      await page.getByRole("checkbox", { name: "For Excel (UTF-8 with BOM)" }).check();
      await page.getByRole("button", { name: "Download chats (CSV)" }).click();
      await page.getByRole("status").filter({ hasText: "Saved to" }).waitFor();
      await check(page, vp);
      await shotWhole(page, vp, "layout-tables");
      await chartCard(page, "Chats per day").getByRole("button", { name: "Table" }).click();
      // 30 days, custom dates
      await page.getByRole("group", { name: "Period" }).getByRole("button", { name: "Last 30 days" }).click();
      await page.getByText("1 Nov – 30 Nov 2026", { exact: true }).waitFor();
      await page.getByRole("group", { name: "Period" }).getByRole("button", { name: "Custom" }).click();
      await page.getByLabel("Operator", { exact: true }).selectOption({ label: LONG_OPERATOR });
      await page.locator(".team-note").waitFor();
      await check(page, vp);
      for (const title of ["Chats per day", "Busiest hours"]) {
        if (await chartCard(page, title).getByRole("img").count()) assert.deepEqual((await ticks(chartCard(page, title))).overlaps, [], title);
      }
      await page.locator(".content").evaluate((c) => { c.scrollTop = 0; });
      await shot(page, vp, "layout-30-days-custom");
      // the chats behind a tile: long names and addresses, the phones rung
      await page.locator(".tile.requested").click();
      const list = page.getByRole("list", { name: /^Chats: Requested/ });
      await list.getByText("Anna Kovacs").waitFor();
      await list.locator("li").first().getByRole("button", { name: "Phones rung" }).click();
      await list.getByText("Failed: BadDeviceToken").waitFor();
      await check(page, vp);
      await shotWhole(page, vp, "layout-chats");
      await list.getByRole("button", { name: new RegExp(LONG_VISITOR) }).click();
      await page.getByRole("log").getByText("Hello, this is chat 701.", { exact: false }).waitFor();
      await page.getByRole("list", { name: "Phones rung" }).waitFor();
      await check(page, vp);
      await shotWhole(page, vp, "layout-transcript");
    }));
}
