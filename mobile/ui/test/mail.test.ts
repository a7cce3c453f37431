// Mail in the operator app, in headless Chromium against the fake backend: "Send chat
// transcript" in a running chat's Live Communication tab, in a chat that ended on screen and in
// History's transcripts (shown only while the server has mail), each mail's progress under it;
// offline messages' unread badge, marking them seen, and "Reply by mail". Whatever a visitor or a
// mail server wrote shows as text.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { fake, navTo, VIEWPORTS, type AppPage, type Viewport, withOpenApp, testBed } from "./harness";

const bed = testBed();

const withApp = (vp: Viewport, fn: (a: AppPage) => Promise<void>): Promise<void> => withOpenApp(bed.browser, bed.site, vp, fn);

const TEAM = { addresses: ["support@example.com", "sales@example.com"] };
const EVIL = '<img src=x onerror="window.__pwned=1">';

const mailForm = (page: Page) => page.getByRole("form", { name: "Send chat transcript" });
const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);

/** Opens the visitor profile (a drawer below 1280 px), where a live chat's form is. */
async function openProfile(page: Page): Promise<void> {
  const toggle = page.getByRole("button", { name: /Visitor profile/ });
  if (await toggle.isVisible() && (await toggle.getAttribute("aria-expanded")) === "false") await toggle.click();
  await page.getByRole("region", { name: "Visitor profile" }).waitFor();
}

/** The options of the form's drop-down, as shown. */
function options(page: Page): Promise<string[]> {
  return mailForm(page).getByRole("combobox", { name: "Send chat transcript" }).locator("option").allTextContents();
}

for (const vp of VIEWPORTS) {
  describe(`mail at ${vp.name} size (${vp.width}×${vp.height})`, () => {
    test("Send chat transcript shows only while the server has mail, and goes when it stops", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addChat({ visitor_name: "Ann" }, ["hi"]));
        await navTo(page, /^Live Communication/).click();
        await openProfile(page);
        await page.getByRole("region", { name: "Visitor profile" }).getByText("Your cart").waitFor();
        assert.equal(await page.getByRole("combobox", { name: "Send chat transcript" }).count(), 0, "no mail, no form");
        await fake(page, (f, team) => f.setMail(team), TEAM);
        await mailForm(page).getByRole("combobox", { name: "Send chat transcript" }).waitFor();
        assert.ok(await mailForm(page).getByRole("button", { name: "Send" }).isVisible());
        await fake(page, (f) => f.setMail(null));
        await mailForm(page).waitFor({ state: "hidden" });
        // the conversation stays usable beside it
        assert.ok(await page.getByRole("textbox", { name: "Message" }).isVisible());
      }));

    test("the drop-down offers the visitor, me, the team and another address; Send mails the one chosen; statuses follow", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f, team) => {
          f.mailDelayMs = null;
          f.setMail(team);
          const id = f.addChat({ visitor_name: "Ann" }, ["hi"]);
          f.setVisitorEmail(id, "ann@example.org");
          return id;
        }, TEAM);
        await navTo(page, /^Live Communication/).click();
        await openProfile(page);
        const form = mailForm(page);
        const pick = form.getByRole("combobox", { name: "Send chat transcript" });
        await pick.waitFor();
        assert.deepEqual(await options(page), [
          "Visitor — ann@example.org",
          "Me — olga@example.com",
          "Team — support@example.com",
          "Team — sales@example.com",
          "Other address…",
        ]);
        // the visitor's address comes first, chosen
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByText("Sending to ann@example.org…", { exact: true }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("mail_transcript")), [{ chatId: id, email: "ann@example.org" }]);
        const first = await fake(page, (f, id) => f.mailsOf(id)![0].mail_id, id);
        await fake(page, (f, m) => f.settleMail(m, "sent", "250 2.0.0 Ok"), first);
        await form.getByText(/^Sent to ann@example\.org at \d{1,2}:\d{2}/).waitFor();
        await form.getByText("Asked by Olga Berg").waitFor();

        // a team address
        await pick.selectOption({ label: "Team — sales@example.com" });
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByText("Sending to sales@example.com…").waitFor();

        // another address: typed in, checked before it is sent
        await pick.selectOption({ label: "Other address…" });
        const other = form.getByRole("textbox", { name: "E-mail address" });
        await other.waitFor();
        await other.fill("not an address");
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByRole("alert").getByText("“not an address” is not an e-mail address.").waitFor();
        assert.equal((await fake(page, (f) => f.callsOf("mail_transcript"))).length, 2, "nothing sent");
        await other.fill("boss@example.net");
        // what is typed survives new snapshots
        await fake(page, (f, id) => f.visitorSays(id, "still there?"), id);
        await page.getByRole("log").getByText("still there?").waitFor({ state: "attached" });
        assert.equal(await other.inputValue(), "boss@example.net");
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByText("Sending to boss@example.net…").waitFor();
        assert.deepEqual((await fake(page, (f) => f.callsOf("mail_transcript"))).at(-1), { chatId: id, email: "boss@example.net" });
        assert.equal(await form.getByRole("alert").isVisible(), false, "the error went");
        const last = await fake(page, (f, id) => f.mailsOf(id)!.at(-1)!.mail_id, id);
        await fake(page, (f, m) => f.settleMail(m, "failed", "550 5.1.1 <boss@example.net>: mailbox unavailable"), last);
        await form.getByText("Not sent to boss@example.net: 550 5.1.1 <boss@example.net>: mailbox unavailable", { exact: true }).waitFor();

        // a refusal from the core is said in the form
        await fake(page, (f) => f.failNext("mail_transcript", "rate_limited", "Too many transcripts from this chat. Try again later."));
        await pick.selectOption({ label: "Me — olga@example.com" });
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByRole("alert").getByText("Too many transcripts from this chat. Try again later.").waitFor();
        // newest first, each with its state
        assert.deepEqual(await form.getByRole("list", { name: "Transcripts mailed" }).locator("li").evaluateAll((els) => els.map((e) => e.getAttribute("data-state"))),
          ["failed", "queued", "sent"]);
        // phones and tablets: with the drawer closed, its toggle says the transcript was not sent
        const toggle = page.getByRole("button", { name: /Visitor profile/ });
        if (await toggle.isVisible()) {
          await toggle.click();
          await form.waitFor({ state: "hidden" });
          await page.getByRole("button", { name: "Visitor profile · Transcript not sent" }).waitFor();
        }
      }));

    test("a chat that ended on screen still sends its transcript, and follows it until sent", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f, team) => {
          f.mailDelayMs = 1200;
          f.setMail(team);
          return f.addChat({ visitor_name: "Nina" }, ["bye"]);
        }, TEAM);
        await navTo(page, /^Live Communication/).click();
        await fake(page, (f, id) => f.visitorEnds(id), id);
        await page.getByText("Chat ended", { exact: true }).waitFor();
        await openProfile(page);
        const form = mailForm(page);
        await form.getByRole("combobox", { name: "Send chat transcript" }).selectOption({ label: "Team — support@example.com" });
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByText("Sending to support@example.com…").waitFor();
        await form.getByText(/^Sent to support@example\.com at /).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("mail_transcript")), [{ chatId: id, email: "support@example.com" }]);
      }));

    test("History: an ended chat's transcript sends its transcript and follows the mail, then stops asking", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => {
          f.mailDelayMs = 1500;
          const id = f.addEnded({ visitor_name: "Ben" });
          f.setVisitorEmail(id, "ben@example.org");
          return id;
        });
        await navTo(page, /^History/).click();
        await page.getByRole("list", { name: "Ended chats, most recent first" }).getByRole("button", { name: /Ben/ }).click();
        await page.getByRole("log", { name: "Transcript of the chat with Ben" }).waitFor();
        assert.equal(await mailForm(page).count(), 0, "no mail, no form");
        await fake(page, (f, team) => f.setMail(team), TEAM);
        const form = mailForm(page);
        await form.waitFor();
        assert.deepEqual(await options(page), [
          "Visitor — ben@example.org",
          "Me — olga@example.com",
          "Team — support@example.com",
          "Team — sales@example.com",
          "Other address…",
        ]);
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByText("Sending to ben@example.org…").waitFor();
        await form.getByText(/^Sent to ben@example\.org at \d{1,2}:\d{2}/).waitFor({ timeout: 6000 });
        assert.deepEqual(await fake(page, (f) => f.callsOf("mail_transcript")), [{ chatId: id, email: "ben@example.org" }]);
        const asked = (await fake(page, (f) => f.callsOf("transcript"))).length;
        assert.ok(asked >= 3, `the transcript was fetched again while the mail was queued (${asked})`);
        await page.waitForTimeout(2200);
        assert.equal((await fake(page, (f) => f.callsOf("transcript"))).length, asked, "no more fetching once it is sent");
        // leaving the transcript and coming back keeps the list
        await page.getByRole("button", { name: "History" }).first().click();
        await page.getByRole("list", { name: "Ended chats, most recent first" }).getByRole("button", { name: /Ben/ }).click();
        await form.getByText(/^Sent to ben@example\.org/).waitFor();
      }));

    test("addresses and a mail server's answer show as text", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f, a) => {
          f.mailDelayMs = null;
          f.setMail({ addresses: [a.evil + "@example.com"] });
          const id = f.addChat({ visitor_name: a.evil }, ["hi"]);
          f.setVisitorEmail(id, a.evil);
          return id;
        }, { evil: EVIL });
        await navTo(page, /^Live Communication/).click();
        await openProfile(page);
        const form = mailForm(page);
        await form.waitFor();
        assert.deepEqual(await options(page), [`Visitor — ${EVIL}`, "Me — olga@example.com", `Team — ${EVIL}@example.com`, "Other address…"]);
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByRole("alert").getByText("That is not an e-mail address.").waitFor();
        await fake(page, (f, a) => {
          f.mailsOf(a.id)!.push({ mail_id: 1, to: a.evil, by: a.evil, state: "failed", detail: a.evil, at: Date.now() });
          f.changed();
        }, { id, evil: EVIL });
        await form.getByText(`Not sent to ${EVIL}: ${EVIL}`, { exact: true }).waitFor();
        assert.equal(await page.locator(".section-live img").count(), 0);
        assert.equal(await pwned(page), undefined);
      }));

    test("offline messages: the Reports badge counts the unread, showing them marks them seen, a new one appears live", () =>
      withApp(vp, async ({ page }) => {
        const reports = navTo(page, /^Reports/);
        await reports.waitFor();
        assert.equal(await reports.getAttribute("aria-label"), "Reports");
        const first = await fake(page, (f) => f.leaveOfflineMessage({ name: "Rosa", email: "rosa@example.org", text: "Do you ship to Iceland?" }));
        await fake(page, (f) => f.leaveOfflineMessage({ name: "Sam", email: "sam@example.org", text: "Call me." }));
        await page.waitForFunction(() => document.querySelector("nav [aria-label='Reports, 2 new']") !== null);
        const badge = reports.locator(".nav-badge");
        assert.ok(await badge.isVisible(), "the badge shows at this size");
        assert.equal(await badge.textContent(), "2");
        await reports.click();
        const list = page.getByRole("list", { name: "Offline messages" });
        await list.getByText("Do you ship to Iceland?").waitFor();
        await page.waitForFunction(() => window.__fake.callsOf("offline_messages_read").length === 1);
        assert.deepEqual(await fake(page, (f) => f.callsOf("offline_messages_read")), [{ upTo: first + 1 }]);
        await badge.waitFor({ state: "hidden" });
        assert.equal(await reports.getAttribute("aria-label"), "Reports");
        assert.equal(await list.getByText("New", { exact: true }).count(), 2, "the two unread say New");
        // one more while the list is on screen: it shows, and is seen
        const third = await fake(page, (f) => f.leaveOfflineMessage({ name: "Tove", text: "Is the shop open on Sunday?" }));
        await list.getByText("Is the shop open on Sunday?").waitFor();
        await page.waitForFunction(() => window.__fake.callsOf("offline_messages_read").length === 2);
        assert.deepEqual((await fake(page, (f) => f.callsOf("offline_messages_read"))).at(-1), { upTo: third });
        await page.waitForFunction(() => window.__fake.snap.offline_unread === 0);
        // leaving Reports forgets "New"
        await navTo(page, /^Communication Overview/).click();
        await reports.click();
        await list.getByText("Is the shop open on Sunday?").waitFor();
        assert.equal(await list.getByText("New", { exact: true }).count(), 0);
      }));

    test("Reply by mail: only with mail; the reply is sent, and who replied shows", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => {
          f.offlineMessages.push({ id: 0, visitor_id: null, chat_id: null, name: "Quinn", email: "quinn@example.org", text: "Old question",
            created_at: Date.now() - 86400_000 * 3, replied_at: Date.now() - 86400_000 * 2, replied_by: "Pat Kim" });
        });
        await navTo(page, /^Reports/).click();
        const pia = page.getByRole("listitem", { name: "Offline message from Pia Lund" });
        await pia.waitFor();
        // already answered: said so, with or without mail
        await page.getByRole("listitem", { name: "Offline message from Quinn" }).getByText(/^Replied by Pat Kim on .+ at \d{1,2}:\d{2}/).waitFor();
        assert.equal(await page.getByRole("button", { name: "Reply by mail" }).count(), 0, "no mail, no reply");
        await fake(page, (f, team) => f.setMail(team), TEAM);
        await pia.getByRole("button", { name: "Reply by mail" }).click();
        const form = pia.getByRole("form", { name: "Reply by mail to Pia Lund" });
        const text = form.getByRole("textbox", { name: "Your reply" });
        await text.waitFor();
        await page.waitForFunction(() => document.activeElement?.classList.contains("reply-text") === true);
        await form.getByText("To pia@example.org").waitFor();
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByRole("alert").getByText("Write your reply first.").waitFor();
        await text.fill("We will call you today.");
        // a snapshot while writing keeps the text
        await fake(page, (f) => f.addChat({ visitor_name: "Someone" }, ["hi"]));
        await page.waitForTimeout(100);
        assert.equal(await text.inputValue(), "We will call you today.");
        await fake(page, (f) => f.failNext("reply_offline", "offline", "You are offline: reply when the connection is back."));
        await form.getByRole("button", { name: "Send" }).click();
        await form.getByRole("alert").getByText("You are offline: reply when the connection is back.").waitFor();
        assert.equal(await text.inputValue(), "We will call you today.", "the text stays to send again");
        await form.getByRole("button", { name: "Send" }).click();
        await pia.getByText(/^Replied by Olga Berg at \d{1,2}:\d{2}/).waitFor();
        await form.waitFor({ state: "detached" });
        assert.deepEqual(await fake(page, (f) => f.callsOf("reply_offline")).then((c) => c.at(-1)), { id: 1, text: "We will call you today." });
        // Cancel closes the form without sending
        await pia.getByRole("button", { name: "Reply by mail" }).click();
        await pia.getByRole("button", { name: "Cancel" }).click();
        await pia.getByRole("textbox", { name: "Your reply" }).waitFor({ state: "detached" });
        assert.equal((await fake(page, (f) => f.callsOf("reply_offline"))).length, 2);
        // mail goes: Reply by mail goes with it
        await fake(page, (f) => f.setMail(null));
        await pia.getByRole("button", { name: "Reply by mail" }).waitFor({ state: "detached" });
      }));

    test("an offline message's name, address and text show as text", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f, evil) => {
          f.setMail({ addresses: [] });
          f.leaveOfflineMessage({ name: evil, email: evil, text: evil, replied_at: Date.now(), replied_by: evil });
        }, EVIL);
        await navTo(page, /^Reports/).click();
        const card = page.getByRole("listitem", { name: `Offline message from ${EVIL}` });
        await card.locator(".offline-text").getByText(EVIL, { exact: true }).waitFor();
        await card.getByText(EVIL, { exact: true }).first().waitFor();
        await card.getByText(new RegExp(`^Replied by ${EVIL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} at `)).waitFor();
        await card.getByRole("button", { name: "Reply by mail" }).click();
        await card.getByText(`To ${EVIL}`, { exact: true }).waitFor();
        await card.getByRole("textbox", { name: "Your reply" }).fill("Hello");
        await card.getByRole("button", { name: "Send" }).click();
        await card.getByText(/^Replied by Olga Berg/).waitFor();
        assert.equal(await page.locator(".section-reports img").count(), 0);
        assert.equal(await pwned(page), undefined);
      }));
  });
}
