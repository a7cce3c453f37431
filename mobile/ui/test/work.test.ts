// The operator's work in hand (issue 9), in headless Chromium against the fake backend: refused
// actions are shown with their reason and text, chats ending offline say so, drafts stay with
// their chat, History lists ended chats and opens transcripts, Accept is not offered at the
// cap, a visitor's message in another chat is heard, the network coming back reconnects.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { fake, navTo, openApp, VIEWPORTS, type AppPage, type Viewport, withOpenApp, testBed } from "./harness";

const bed = testBed();

const withApp = (vp: Viewport, fn: (a: AppPage) => Promise<void>): Promise<void> => withOpenApp(bed.browser, bed.site, vp, fn);

const sounds = (page: Page) => page.evaluate(() => window.__switchboardSounds ?? []);

for (const vp of VIEWPORTS) {
  describe(`work in hand at ${vp.name} size (${vp.width}×${vp.height})`, () => {
    test("a refused action is shown with its reason and text: copy, try again, dismiss", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Eva" }, ["hi"]));
        await fake(page, (f, id) => f.refuse(id, "Send message", "one more thing", "This chat has already ended."), id);
        const refused = page.getByRole("alert").filter({ hasText: "Not sent: Send message to Eva" });
        await refused.waitFor();
        await refused.getByText("one more thing").waitFor();
        await refused.getByText("This chat has already ended.").waitFor();
        for (const name of ["Copy", "Try again", "Dismiss"]) assert.ok(await refused.getByRole("button", { name }).isVisible(), name);
        // Trying again is refused again: still shown, as a new attempt.
        await refused.getByRole("button", { name: "Try again" }).click();
        await page.getByRole("alert").filter({ hasText: "This chat has already ended." }).first().waitFor();
        assert.equal((await fake(page, (f) => f.callsOf("retry_refused"))).length, 1);
        assert.equal(await fake(page, (f) => f.snap.refused.length), 1);
        await page.getByRole("alert").filter({ hasText: "Not sent: Send message to Eva" }).getByRole("button", { name: "Dismiss" }).click();
        await page.getByRole("alert").filter({ hasText: "Not sent:" }).waitFor({ state: "detached" });
        assert.equal((await fake(page, (f) => f.callsOf("dismiss_refused"))).length, 1);
      }));

    test("offline: End chat shows the chat as ending, and the pending list names the chat", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addChat({ visitor_name: "Eva" }, ["hi"]));
        await navTo(page, /^Live Communication/).click();
        await fake(page, (f) => f.setConnection("offline"));
        await page.getByRole("button", { name: "End chat" }).click();
        await page.getByRole("alertdialog", { name: "End chat with Eva?" }).getByRole("button", { name: "End chat" }).click();
        await page.getByText(/^Ending — End chat is sent/).waitFor();
        const input = page.getByRole("textbox", { name: "Message" });
        assert.ok(await input.isDisabled(), "nothing more is written to an ending chat");
        await page.getByRole("status").getByText("End chat — Eva").waitFor();
      }));

    test("drafts stay with their chat when switching tabs, and are kept by the core", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addChat({ visitor_name: "Eva" }, ["hi"]));
        await fake(page, (f) => f.addChat({ visitor_name: "Farhan" }, ["hello"]));
        await navTo(page, /^Live Communication/).click();
        const input = page.getByRole("textbox", { name: "Message" });
        await page.getByRole("tab", { name: /Eva/, selected: true }).waitFor();
        await input.fill("Your order ships on");
        await page.getByRole("tab", { name: /Farhan/ }).click();
        await page.getByRole("tab", { name: /Farhan/, selected: true }).waitFor();
        assert.equal(await input.inputValue(), "", "Farhan's box is his own");
        await input.fill("Hi Farhan");
        await page.getByRole("tab", { name: /Eva/ }).click();
        assert.equal(await input.inputValue(), "Your order ships on");
        await page.waitForFunction(() => window.__fake.callsOf("set_draft").length >= 2);
        const kept = await fake(page, (f) => f.callsOf("set_draft"));
        assert.ok(kept.some((c) => c.text === "Your order ships on"), JSON.stringify(kept));
        assert.ok(kept.some((c) => c.text === "Hi Farhan"), JSON.stringify(kept));
      }));

    test("a draft kept by the core comes back in its chat", async () => {
      const app = await openApp(bed.browser, bed.site, vp, { signedIn: true, available: true });
      try {
        await fake(app.page, (f) => {
          const id = f.addChat({ visitor_name: "Eva" }, ["hi"]);
          f.snap.chats.find((c) => c.chat.id === id)!.draft = "kept from last time";
          f.changed();
        });
        await navTo(app.page, /^Live Communication/).click();
        await app.page.getByRole("tab", { name: /Eva/, selected: true }).waitFor();
        assert.equal(await app.page.getByRole("textbox", { name: "Message" }).inputValue(), "kept from last time");
      } finally {
        await app.close();
      }
    });

    test("History: ended chats newest first, search, more, and a read-only transcript", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => {
          const now = Date.now();
          f.addEnded({ visitor_name: "Ann", created_at: now - 5 * 86400_000 });
          f.addEnded({ visitor_name: "Ben", created_at: now - 4 * 86400_000 }, ["My bike has a flat tyre", "Here is how to fix it"]);
          f.addEnded({ visitor_name: "Cleo", created_at: now - 3 * 86400_000 });
          f.addEnded({ visitor_name: "Dan", created_at: now - 2 * 86400_000 });
        });
        await navTo(page, /^History/).click();
        const list = page.getByRole("list", { name: "Ended chats, most recent first" });
        await list.waitFor();
        assert.deepEqual(await list.locator(".row-title").allTextContents(), ["Dan", "Cleo", "Ben"]);
        await page.getByRole("button", { name: "Show more" }).click();
        await list.getByRole("button", { name: /Ann/ }).waitFor();
        assert.equal(await list.getByRole("button").count(), 4);
        assert.equal(await page.getByRole("button", { name: "Show more" }).count(), 0);

        await page.getByRole("searchbox", { name: "Search history" }).fill("flat tyre");
        await page.waitForFunction(() => document.querySelectorAll(".history-list .row").length === 1);
        await list.getByRole("button", { name: /Ben/ }).click();
        const log = page.getByRole("log", { name: "Transcript of the chat with Ben" });
        await log.waitFor();
        for (const line of ["My bike has a flat tyre", "Here is how to fix it", "Olga Berg accepted the chat", "Olga Berg put the chat on hold", "Olga Berg resumed the chat", "Ben ended the chat"]) {
          await log.getByText(line, { exact: false }).first().waitFor();
        }
        assert.equal(await page.getByRole("textbox", { name: "Message" }).isVisible(), false, "read-only");
        await page.getByRole("button", { name: "History" }).first().click();
        await list.waitFor();

        await page.getByRole("searchbox", { name: "Search history" }).fill("nobody like this");
        await page.getByText("No ended chats match your search.").waitFor();
      }));

    test("at the chat cap Accept and Take are not offered, and say why", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addQueued({ visitor_name: "Quinn" }));
        await fake(page, (f) => f.setAtCap(true));
        await fake(page, (f) => f.incoming({ visitor_name: "Rita" }));
        const dialog = page.getByRole("dialog", { name: "Incoming chat request" });
        await dialog.waitFor();
        await dialog.getByText(/the most allowed\. Put one on hold or end one/).waitFor();
        assert.ok(await dialog.getByRole("button", { name: "Accept" }).isDisabled());
        assert.ok(await dialog.getByRole("button", { name: "Queue" }).isEnabled(), "Queue still works");
        await dialog.getByRole("button", { name: "Queue" }).click();
        await navTo(page, /^Communication Queue/).click();
        await page.locator("#cap-note-queue").getByText(/the most allowed/).waitFor();
        const takes = page.getByRole("button", { name: "Take" });
        assert.ok((await takes.count()) >= 1);
        for (const b of await takes.all()) assert.ok(await b.isDisabled());
        // A chat put on hold frees a slot: Take is offered again.
        await fake(page, (f) => f.setAtCap(false));
        await page.locator("#cap-note-queue").waitFor({ state: "detached" });
        for (const b of await takes.all()) assert.ok(await b.isEnabled());
      }));

    test("a visitor's message in a chat not shown sounds; in the chat being read it does not", () =>
      withApp(vp, async ({ page }) => {
        const eva = await fake(page, (f) => f.addChat({ visitor_name: "Eva" }, ["hi"]));
        const farhan = await fake(page, (f) => f.addChat({ visitor_name: "Farhan" }, ["hello"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("tab", { name: /Eva/, selected: true }).waitFor();
        await page.bringToFront();
        await fake(page, (f, id) => f.visitorSays(id, "are you there?"), farhan);
        await page.waitForFunction(() => (window.__switchboardSounds ?? []).includes("message"));
        await page.getByRole("tab", { name: /Farhan.*1 unread/ }).waitFor();
        const before = (await sounds(page)).length;
        const focused = await page.evaluate(() => document.hasFocus());
        await fake(page, (f, id) => f.visitorSays(id, "thanks"), eva);
        await page.getByRole("log").getByText("thanks").waitFor();
        if (focused) assert.equal((await sounds(page)).length, before, "no sound for the chat being read");
      }));

    test("voice: Voice chat invites, the call bar shows the call, Mute toggles, End voice returns to text", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Vera" }, ["can we talk?"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("button", { name: "Voice chat" }).click();
        const bar = page.getByRole("group", { name: "Voice call" });
        await bar.getByText("Inviting Vera to a voice chat…").waitFor();
        assert.equal(await page.getByRole("button", { name: "Voice chat" }).count(), 0, "one call at a time");
        await fake(page, (f, id) => f.setCall(id, "connecting"), id);
        await bar.getByText("Voice chat — connecting…").waitFor();
        await fake(page, (f, id) => f.setCall(id, "connected"), id);
        await bar.getByText("Voice chat", { exact: true }).waitFor();
        const clock = bar.getByLabel("Call duration");
        assert.match(await clock.innerText(), /^1:0\d$/);
        const mute = bar.getByRole("button", { name: "Mute" });
        assert.equal(await mute.getAttribute("aria-pressed"), "false");
        await mute.click();
        await bar.getByRole("button", { name: "Unmute" }).waitFor();
        assert.equal(await bar.getByRole("button", { name: "Unmute" }).getAttribute("aria-pressed"), "true");
        assert.deepEqual(await fake(page, (f) => f.callsOf("call_mute")), [{ chatId: id, muted: true }]);
        // The text chat goes on beside the call.
        await page.getByRole("textbox", { name: "Message" }).fill("I can hear you");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("log").getByText("I can hear you").waitFor();
        await bar.getByRole("button", { name: "End voice" }).click();
        await page.getByText("Voice call ended.").waitFor();
        await page.getByRole("button", { name: "Voice chat" }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("call_end")), [{ chatId: id }]);
        // A call that cannot connect says so; the chat goes on as text.
        await fake(page, (f, id) => f.setCall(id, null, "The voice call could not connect. The chat goes on as text."), id);
        await page.getByText("The voice call could not connect. The chat goes on as text.").waitFor();
        assert.ok(await page.getByRole("textbox", { name: "Message" }).isEnabled());
      }));

    test("the network changing asks the core to reconnect now (and restart its calls); the first paint is reported", () =>
      withApp(vp, async ({ page }) => {
        await page.waitForFunction(() => window.__fake.callsOf("painted").length === 1);
        await page.evaluate(() => window.dispatchEvent(new Event("online")));
        await page.waitForFunction(() => window.__fake.callsOf("network_changed").length === 1);
        assert.equal(await fake(page, (f) => f.callsOf("painted").length), 1, "once");
      }));
  });
}
