// The operator app's layout at phone, tablet and desktop sizes, with the long names, page titles
// and unbroken words real visitors bring (issue 9, items 1 and 2). Each screen is checked the
// same way: nothing wider than the viewport, every control inside it, not clipped by a parent,
// not covered by another element, at least 44×44 px on touch screens; text stays inside its
// card; Live Communication leaves the conversation room (a message box of 240 px or more, the
// visitor's name beside Hold / End chat). A screenshot of every screen at every size goes to
// test-output/ (look at them: a check passes on what it measures, not on how it looks).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { fake, navTo, openApp, type AppPage, type Viewport, testBed } from "./harness";
import { layoutProblems } from "./layout-check";

const bed = testBed();

/** The sizes the issue names: two phones, a tablet, the app's default window, a laptop. */
const SIZES: Viewport[] = [
  { name: "phone", width: 360, height: 740, mobile: true },
  { name: "phone", width: 390, height: 844, mobile: true },
  { name: "tablet", width: 820, height: 1180, mobile: true },
  { name: "desktop", width: 1100, height: 760, mobile: false },
  { name: "desktop", width: 1280, height: 800, mobile: false },
];

const LONG_TITLE = "Red Racer 3000 – Acme Bikes — The Fastest Bicycle Money Can Buy, Now With Extra Long Title";
const LONG_URL = "https://shop.acme-bikes.example.com/catalogue/bicycles/road/red-racer-3000-the-fastest-bicycle-money-can-buy?colour=red&size=XL&utm_source=newsletter&utm_campaign=spring";
const PAGE = { url: LONG_URL, title: LONG_TITLE };
const DATA = {
  page: PAGE,
  names: {
    live: "Maximilian Alexander Featherstonehaugh-Worthington",
    held: "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine",
    request: "Anastasia Konstantinopoulou-Papadimitriou-Vasilakopoulou",
    request2: "Bartholomew-Christopherson-Montgomery-Fitzwilliam-Smythe",
    queued: "Supercalifragilisticexpialidocious Pneumonoultramicroscopic",
    queued2: "Alexandrina Victoria of Saxe-Coburg and Gotha-Featherstonehaugh",
    ended: "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Senior",
  },
  messages: [
    `Hi! I'm looking at ${LONG_URL} — is it in stock in red?`,
    "Pneumonoultramicroscopicsilicovolcanoconiosis-Pneumonoultramicroscopicsilicovolcanoconiosis-Pneumonoultramicroscopicsilicovolcanoconiosis",
    "My order number is ACME-000000000000000000000000000000000000000000000000000042, can you check it?",
  ],
  reply: `Yes, it is in stock. Here is the size guide: ${LONG_URL}&section=size-guide-and-frame-geometry`,
  offline: {
    name: "Konstantinos Papadopoulos-Christodoulopoulos-Georgiadis",
    email: "konstantinos.papadopoulos-christodoulopoulos@very-long-subdomain.example-company.co.uk",
    text: `Please call me back about ${LONG_URL} — my order ACME-00000000000000000000000000000000000000000042.`,
  },
  mail: {
    team: [
      "customer-support-and-returns-department@very-long-subdomain.acme-bikes.example-company.co.uk",
      "sales@acme-bikes.example.com",
    ],
    visitor: "maximilian.alexander.featherstonehaugh-worthington@extremely-long-mail-provider-name.example.org",
    other: "bartholomew.christopherson-montgomery-fitzwilliam-smythe@another-very-long-domain.example.net",
    detail: "550 5.1.1 <bartholomew.christopherson-montgomery-fitzwilliam-smythe@another-very-long-domain.example.net>: Recipient address rejected: User unknown in virtual mailbox table",
  },
};

/** Seeds the fake backend: two requests, two queued chats, two own chats (one on hold) with
 *  long words and URLs, two ended chats for History, an offline message. The first request rings (the dialog opens). */
function seed(page: Page): Promise<{ live: number; held: number }> {
  return fake(page, (f, d: typeof DATA) => {
    const now = Date.now();
    f.addQueued({ visitor_name: d.names.queued, page: d.page, created_at: now - 14 * 60_000 });
    f.addQueued({ visitor_name: d.names.queued2, page: d.page, mode: "voice", created_at: now - 75 * 60_000 });
    const live = f.addChat({ visitor_name: d.names.live, page: d.page, created_at: now - 600_000 }, d.messages);
    f.handle("send_message", { chatId: live, text: d.reply });
    const held = f.addChat({ visitor_name: d.names.held, page: d.page, status: "on_hold", mode: "voice" }, ["Hello?"]);
    f.visitorSays(held, "Are you still there? " + d.page.url);
    f.addEnded({ visitor_name: d.names.ended, page: d.page, created_at: now - 2 * 86400_000 }, [d.messages[1], d.reply]);
    f.addEnded({ visitor_name: d.names.queued, page: d.page, created_at: now - 3 * 86400_000 });
    f.offlineMessages.push({ id: 2, visitor_id: 41, chat_id: null, name: d.offline.name, email: d.offline.email, text: d.offline.text, created_at: now - 7200_000, replied_at: null, replied_by: null });
    f.incoming({ visitor_name: d.names.request, page: d.page, created_at: now - 42_000 });
    f.incoming({ visitor_name: d.names.request2, page: d.page, mode: "voice", created_at: now - 5_000 });
    return { live, held };
  }, DATA);
}

/** Live Communication with a chat open: the conversation's room, the visitor's name, the
 *  labels (runs in the page, self-contained). */
function liveProblems(): string[] {
  const problems: string[] = [];
  const input = document.querySelector<HTMLElement>("textarea.message-input");
  const w = input?.getBoundingClientRect().width ?? 0;
  if (w < 240) problems.push(`the message box is ${Math.round(w)} px wide, under 240`);
  const name = document.querySelector<HTMLElement>(".chat-head h2");
  const actions = document.querySelector<HTMLElement>(".chat-head .chat-actions");
  if (!name || !actions) return [...problems, "no chat head"];
  const n = name.getBoundingClientRect();
  const a = actions.getBoundingClientRect();
  if (n.width < Math.min(96, name.scrollWidth)) problems.push(`only ${Math.round(n.width)} px of the visitor's name show`);
  if (n.right > a.left + 0.5 && n.left < a.right && n.bottom > a.top && n.top < a.bottom) problems.push("the visitor's name runs under Hold / End chat");
  const hit = document.elementFromPoint(n.left + Math.min(n.width, 40) / 2, n.top + n.height / 2);
  if (!hit || !name.contains(hit)) problems.push("the visitor's name is covered");
  // "Canned" is a word on the screen, not an icon with a hidden name
  const canned = Array.from(document.querySelectorAll<HTMLElement>(".composer button")).find((b) => /Canned/.test(b.textContent ?? ""));
  const label = canned && Array.from(canned.querySelectorAll<HTMLElement>("span")).find((s) => s.textContent === "Canned");
  const lr = label?.getBoundingClientRect();
  if (!lr || lr.width < 20 || lr.height < 8 || getComputedStyle(label!).clip !== "auto") problems.push("the Canned button has no visible label");
  // "On hold" shows once for the open chat (the note), not again in the header or its tab
  const open = document.querySelector<HTMLElement>("[role=tab][aria-selected=true]");
  if (open && /On hold/.test(open.textContent ?? "")) {
    const texts: string[] = [];
    const walk = document.createTreeWalker(document.querySelector(".section-live")!, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      const el = t.parentElement!;
      const r = el.getBoundingClientRect();
      const inOpen = open.contains(el) || !!el.closest(".chat-panel");
      if (inOpen && /On hold/.test(t.textContent ?? "") && el.checkVisibility({ checkVisibilityCSS: true }) && r.width > 2 && r.height > 2) texts.push(t.textContent!.trim());
    }
    if (texts.length !== 1) problems.push(`"On hold" shows ${texts.length} times for the open chat: ${JSON.stringify(texts)}`);
  }
  return problems;
}

async function check(page: Page, vp: Viewport, scope: string | null = null): Promise<void> {
  const problems = await page.evaluate(layoutProblems, { scope, minTarget: vp.mobile ? 44 : 0, scrollX: vp.width < 768 ? ".tabs" : ":not(*)", narrow: ".chart-hit" });
  assert.deepEqual(problems, [], `layout problems at ${vp.width}×${vp.height}`);
}

async function shot(page: Page, vp: Viewport, what: string): Promise<void> {
  // let the browser settle (fonts, a render queued by the last snapshot)
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await page.screenshot({ path: join(bed.outDir, `${vp.width}x${vp.height}-${what}.png`) });
}

const OPEN_DIALOG = "dialog[open]";

/** Closes whatever dialog a failed test left open, so the next one starts from the app itself. */
async function closeDialogs(page: Page): Promise<void> {
  for (let i = 0; i < 5 && (await page.locator(OPEN_DIALOG).count()) > 0; i++) {
    await page.keyboard.press("Escape");
    await page.waitForTimeout(50);
  }
}

for (const vp of SIZES) {
  describe(`layout at ${vp.width}×${vp.height} (${vp.name})`, () => {
    let app: AppPage;
    let page: Page;
    let ids: { live: number; held: number };

    before(async () => {
      app = await openApp(bed.browser, bed.site, vp, { signedIn: true, available: true });
      page = app.page;
      ids = await seed(page);
    });

    after(async () => {
      assert.deepEqual(app.errors, [], "no errors in the page");
      await app.close();
    });

    test("sign in", async () => {
      const signedOut = await openApp(bed.browser, bed.site, vp, { signedIn: false });
      try {
        await signedOut.page.getByRole("button", { name: "Sign in" }).waitFor();
        await shot(signedOut.page, vp, "0-sign-in");
        await check(signedOut.page, vp);
      } finally {
        await signedOut.close();
      }
    });

    test("Incoming chat request dialog", async () => {
      const dialog = page.getByRole("dialog", { name: "Incoming chat request" });
      await dialog.getByRole("heading", { name: DATA.names.request }).waitFor();
      await shot(page, vp, "1-incoming-request");
      await check(page, vp, OPEN_DIALOG);
      // put both requests aside: they stay in the Communication Overview
      await closeDialogs(page);
    });

    test("Communication Overview", async () => {
      await closeDialogs(page);
      await navTo(page, /^Communication Overview/).click();
      await page.getByRole("listitem", { name: `Chat request from ${DATA.names.request2}` }).waitFor();
      await shot(page, vp, "2-overview");
      await check(page, vp);
    });

    test("Communication Queue", async () => {
      await closeDialogs(page);
      await navTo(page, /^Communication Queue/).click();
      await page.getByRole("list", { name: "Queued chats, oldest first" }).getByRole("button", { name: "Take" }).nth(1).waitFor();
      await shot(page, vp, "3-queue");
      await check(page, vp);
    });

    test("Live Communication with a chat open", async () => {
      await closeDialogs(page);
      await navTo(page, /^Live Communication/).click();
      await page.getByRole("tab", { name: new RegExp(DATA.names.live) }).click();
      await page.getByRole("log").getByText(DATA.reply).waitFor();
      await page.getByRole("textbox", { name: "Message" }).fill("Thanks for waiting — one moment please, I am checking the warehouse.");
      await shot(page, vp, "4-live");
      await check(page, vp);
      assert.deepEqual(await page.evaluate(liveProblems), []);
    });

    test("Live Communication with a chat on hold", async () => {
      await closeDialogs(page);
      await page.getByRole("tab", { name: new RegExp(DATA.names.held) }).click();
      await page.getByRole("button", { name: "Resume" }).waitFor();
      await shot(page, vp, "5-live-on-hold");
      await check(page, vp);
      assert.deepEqual(await page.evaluate(liveProblems), []);
    });

    test("Live Communication with a voice call", async () => {
      await closeDialogs(page);
      await fake(page, (f, id) => f.setCall(id, "connected"), ids.live);
      await page.getByRole("tab", { name: new RegExp(DATA.names.live) }).click();
      await page.getByRole("group", { name: "Voice call" }).getByRole("button", { name: "Mute" }).waitFor();
      await shot(page, vp, "5-live-voice-call");
      await check(page, vp);
      assert.deepEqual(await page.evaluate(liveProblems), []);
      await fake(page, (f, id) => f.setCall(id, null), ids.live);
    });

    test("Visitor profile", async () => {
      await closeDialogs(page);
      const region = page.getByRole("region", { name: "Visitor profile" });
      const toggle = page.getByRole("button", { name: /Visitor profile/ });
      if (await toggle.isVisible()) await toggle.click();
      await region.getByText("Your cart").waitFor();
      await shot(page, vp, "6-visitor-profile");
      await check(page, vp);
      if (await toggle.isVisible()) {
        await toggle.click();
        await region.getByText("Your cart").waitFor({ state: "hidden" });
      }
    });

    test("Canned messages dialog", async () => {
      await closeDialogs(page);
      await page.getByRole("button", { name: "Canned" }).click();
      const d = page.getByRole("dialog", { name: "Canned messages" });
      await d.getByRole("searchbox").waitFor();
      await shot(page, vp, "7-canned");
      await check(page, vp, OPEN_DIALOG);
      await d.getByRole("button", { name: "Manage" }).click();
      await d.getByRole("button", { name: "New canned message" }).click();
      await d.getByLabel("Title").fill("A canned message with a title long enough to need more than one line on a phone");
      await shot(page, vp, "8-canned-edit");
      await check(page, vp, OPEN_DIALOG);
      await page.keyboard.press("Escape");
      await d.waitFor({ state: "hidden" });
    });

    test("End chat confirmation", async () => {
      await closeDialogs(page);
      await page.getByRole("button", { name: "End chat" }).click();
      const d = page.getByRole("alertdialog", { name: /^End chat with/ });
      await d.waitFor();
      await shot(page, vp, "9-end-chat");
      await check(page, vp, OPEN_DIALOG);
      await d.getByRole("button", { name: "Cancel" }).click();
      await d.waitFor({ state: "hidden" });
    });

    test("History", async () => {
      await closeDialogs(page);
      await navTo(page, /^History/).click();
      const list = page.getByRole("list", { name: "Ended chats, most recent first" });
      await list.getByRole("button", { name: new RegExp(DATA.names.ended) }).waitFor();
      await shot(page, vp, "10-history");
      await check(page, vp);
      await list.getByRole("button", { name: new RegExp(DATA.names.ended) }).click();
      await page.getByRole("log", { name: `Transcript of the chat with ${DATA.names.ended}` }).getByText(DATA.reply).waitFor();
      await shot(page, vp, "11-transcript");
      await check(page, vp);
    });

    test("A refused action in the banner", async () => {
      await closeDialogs(page);
      await navTo(page, /^Live Communication/).click();
      const refused = await fake(page, (f, d: typeof DATA) => f.refuse(f.snap.chats[0].chat.id, "Send message", d.messages[1], "The chat has already ended, so this message was not sent."), DATA);
      await page.getByRole("alert").filter({ hasText: "The chat has already ended" }).waitFor();
      await shot(page, vp, "12-refused");
      await check(page, vp);
      // the banner leaves the conversation on screen
      const log = await page.getByRole("log").boundingBox();
      assert.ok(log && log.height >= 96, `the messages keep ${Math.round(log?.height ?? 0)} px of height beside the banner`);
      await fake(page, (f, id) => { f.snap.refused = f.snap.refused.filter((r) => r.id !== id); f.changed(); }, refused);
      await page.getByRole("alert").filter({ hasText: "The chat has already ended" }).waitFor({ state: "hidden" });
    });

    test("Visitors List", async () => {
      await closeDialogs(page);
      await fake(page, (f, d: typeof DATA) => f.setVisitors([
        f.siteVisitor(1, { name: d.names.live, page: d.page, referrer: d.page.url, search_terms: d.names.queued, chat: { state: "chatting", chat_id: 1, operator: { id: 1, name: d.names.held } } }),
        f.siteVisitor(2, { name: d.names.request, page: d.page, chat: { state: "queued", chat_id: 2 } }),
        f.siteVisitor(3, { page: { url: d.page.url, title: null } }),
      ]), DATA);
      await navTo(page, "Visitors List").click();
      await page.getByRole("heading", { name: "Visitors List", level: 1 }).waitFor();
      await page.getByText("3 visitors, longest on the site first").waitFor();
      await shot(page, vp, "13-visitors");
      await check(page, vp);
    });

    test("Reports", async () => {
      await closeDialogs(page);
      await navTo(page, "Reports").click();
      await page.getByRole("list", { name: "Offline messages" }).getByText(DATA.offline.email).waitFor();
      await shot(page, vp, "14-reports");
      await check(page, vp);
    });

    test("Account dialog", async () => {
      await closeDialogs(page);
      await page.getByRole("button", { name: "Account" }).click();
      const d = page.getByRole("dialog", { name: "Account" });
      await d.getByRole("button", { name: "Sign out" }).waitFor();
      await shot(page, vp, "15-account");
      await check(page, vp, OPEN_DIALOG);
      await page.keyboard.press("Escape");
      await d.waitFor({ state: "hidden" });
      assert.ok(ids.live && ids.held);
    });

    // ---- mail: from here on the server has it (long addresses, a mail server's long answer) ----

    test("Send chat transcript in a live chat", async () => {
      await closeDialogs(page);
      await fake(page, (f, a) => {
        f.mailDelayMs = null;
        f.setMail({ addresses: a.d.mail.team });
        f.setVisitorEmail(a.id, a.d.mail.visitor);
        const now = Date.now();
        f.mailsOf(a.id)!.push(
          { mail_id: 1, to: a.d.mail.team[0], by: a.d.names.held, state: "sent", detail: "250 2.0.0 Ok", at: now - 120_000 },
          { mail_id: 2, to: a.d.mail.other, by: "Olga Berg", state: "failed", detail: a.d.mail.detail, at: now - 60_000 },
          { mail_id: 3, to: a.d.mail.visitor, by: "Visitor", state: "queued", detail: null, at: now },
        );
        f.changed();
      }, { id: ids.live, d: DATA });
      await navTo(page, /^Live Communication/).click();
      await page.getByRole("tab", { name: new RegExp(DATA.names.live) }).click();
      const toggle = page.getByRole("button", { name: /Visitor profile/ });
      if (await toggle.isVisible()) await toggle.click();
      const form = page.getByRole("form", { name: "Send chat transcript" });
      await form.getByRole("combobox", { name: "Send chat transcript" }).selectOption({ label: "Other address…" });
      await form.getByRole("textbox", { name: "E-mail address" }).fill(DATA.mail.other);
      await form.getByText(`Sending to ${DATA.mail.visitor}…`).waitFor();
      await shot(page, vp, "16-live-send-transcript");
      await check(page, vp);
      assert.deepEqual(await page.evaluate(liveProblems), []);
      if (await toggle.isVisible()) {
        await toggle.click();
        await form.waitFor({ state: "hidden" });
      }
      // phones and tablets: the drawer closed, the conversation and the composer are as before
      await shot(page, vp, "16-live-after-transcript");
      await check(page, vp);
    });

    test("Send chat transcript in an ended chat's transcript", async () => {
      await closeDialogs(page);
      await fake(page, (f, d: typeof DATA) => {
        const t = f.ended.find((x) => x.chat.visitor_name === d.names.ended)!;
        t.visitor_email = d.mail.visitor;
        t.mails.push({ mail_id: 4, to: d.mail.other, by: "Olga Berg", state: "failed", detail: d.mail.detail, at: Date.now() - 86400_000 });
      }, DATA);
      await navTo(page, /^History/).click();
      const list = page.getByRole("list", { name: "Ended chats, most recent first" });
      const back = page.getByRole("button", { name: "History", exact: true }).and(page.locator("[data-fk=history-back]"));
      if (await back.isVisible()) await back.click();
      await list.getByRole("button", { name: new RegExp(DATA.names.ended) }).click();
      const form = page.getByRole("form", { name: "Send chat transcript" }).and(page.locator(".section-history form"));
      await form.getByText(`Not sent to ${DATA.mail.other}: ${DATA.mail.detail}`).waitFor();
      await shot(page, vp, "17-transcript-send-transcript");
      await check(page, vp);
    });

    test("Reports: the unread badge and Reply by mail", async () => {
      await closeDialogs(page);
      await navTo(page, /^Communication Overview/).click();
      await fake(page, (f, d: typeof DATA) => f.leaveOfflineMessage({ name: d.offline.name, email: d.mail.visitor, text: d.offline.text }), DATA);
      await page.locator("nav [aria-label='Reports, 1 new'] .nav-badge").waitFor();
      await shot(page, vp, "18-offline-badge");
      await check(page, vp);
      await navTo(page, /^Reports/).click();
      const card = page.getByRole("listitem", { name: `Offline message from ${DATA.offline.name}` }).first();
      await card.getByText("New", { exact: true }).waitFor();
      await shot(page, vp, "19-offline-new");
      await check(page, vp);
      await card.getByRole("button", { name: "Reply by mail" }).click();
      await card.getByRole("textbox", { name: "Your reply" }).fill(`Thank you, ${DATA.offline.name}. ${DATA.reply}`);
      await fake(page, (f, d: typeof DATA) => { f.offlineMessages[1].replied_at = Date.now() - 86400_000; f.offlineMessages[1].replied_by = d.names.held; }, DATA);
      await navTo(page, /^Communication Overview/).click();
      await navTo(page, /^Reports/).click();
      await card.getByRole("textbox", { name: "Your reply" }).waitFor();
      await card.getByRole("button", { name: "Send" }).scrollIntoViewIfNeeded();
      await shot(page, vp, "19-offline-reply");
      await check(page, vp);
      await page.getByRole("listitem", { name: "Offline message from Pia Lund" }).getByText(/^Replied by /).scrollIntoViewIfNeeded();
      await shot(page, vp, "19-offline-replied");
      await check(page, vp);
    });
  });
}
