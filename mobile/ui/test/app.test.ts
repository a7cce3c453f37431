// The operator app's UI in headless Chromium, with Tauri's IPC mocked at its boundary by a fake
// backend (test/fake-backend.ts). Every scenario runs at a phone and at a desktop viewport.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { fake, navTo, openApp, VIEWPORTS, type AppPage, type Viewport, withOpenApp, testBed } from "./harness";
import type { Seed } from "./fake-backend";

const bed = testBed();

const withApp = (vp: Viewport, fn: (a: AppPage) => Promise<void>, seed?: Seed): Promise<void> =>
  withOpenApp(bed.browser, bed.site, vp, fn, seed);

const incomingDialog = (page: Page) => page.getByRole("dialog", { name: "Incoming chat request" });

for (const vp of VIEWPORTS) {
  describe(`operator app at ${vp.name} size (${vp.width}×${vp.height})`, () => {
    test("sign in: a wrong password shows an error, the right one opens the app", () =>
      withApp(vp, async ({ page }) => {
        await page.getByRole("heading", { name: "Switchboard" }).waitFor();
        assert.equal(await page.getByLabel("Server").inputValue(), "http://127.0.0.1:8080");
        await page.getByLabel("E-mail").fill("olga@example.com");
        await page.getByLabel("Password").fill("nope");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("alert").filter({ hasText: "Wrong e-mail or password" }).waitFor();
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}-signin.png` });
        await page.getByLabel("Password").fill("secret");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("heading", { name: "Communication Overview" }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("sign_in")), [
          { server: "http://127.0.0.1:8080", email: "olga@example.com", password: "nope" },
          { server: "http://127.0.0.1:8080", email: "olga@example.com", password: "secret" },
        ]);
        // and out again, from the account dialog
        await page.getByRole("button", { name: "Account" }).click();
        await page.getByRole("dialog", { name: "Account" }).getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("button", { name: "Sign in" }).waitFor();
      }, { signedIn: false, available: false }));

    test("the account sheet changes the display name (what visitors and colleagues see)", () =>
      withApp(vp, async ({ page }) => {
        await page.getByRole("button", { name: "Account" }).click();
        const form = page.getByRole("dialog", { name: "Account" }).getByRole("form", { name: "Display name" });
        const input = form.getByRole("textbox", { name: "Display name" });
        await input.fill("   ");
        await form.getByRole("button", { name: "Save" }).click();
        await form.getByText("Name is required.").waitFor();
        await input.fill("Olga from Support");
        await form.getByRole("button", { name: "Save" }).click();
        await form.getByText(/^Saved/).waitFor();
        assert.deepEqual((await fake(page, (f) => f.callsOf("set_display_name"))).at(-1), { name: "Olga from Support" });
        await page.getByRole("dialog", { name: "Account" }).getByText("Olga from Support", { exact: true }).first().waitFor();
      }));

    test("Live Help toggle switches between Available and Not Available", () =>
      withApp(vp, async ({ page }) => {
        const toggle = page.getByRole("button", { name: /^Live Help/ });
        await toggle.waitFor();
        assert.equal(await toggle.textContent(), "Live Help Not Available");
        assert.equal(await toggle.getAttribute("aria-pressed"), "false");
        await toggle.click();
        await page.getByRole("button", { name: "Live Help Available" }).waitFor();
        assert.equal(await toggle.getAttribute("aria-pressed"), "true");
        await toggle.click();
        await page.getByRole("button", { name: "Live Help Not Available" }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("set_available")), [{ available: true }, { available: false }]);
      }, { signedIn: true, available: false }));

    test("a chat accepted from a notification opens in Live Communication", () =>
      withApp(vp, async ({ page }) => {
        await page.getByRole("heading", { name: "Communication Overview" }).waitFor();
        await fake(page, (f) => f.acceptedFromNotification({ visitor_name: "Nina Lock" }));
        await page.getByRole("tab", { name: /Nina Lock/, selected: true }).waitFor();
        assert.equal(await navTo(page, /^Live Communication/).getAttribute("aria-current"), "page");
      }));

    test("incoming chat request dialog: Accept opens the chat's Live Communication tab", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.incoming({ visitor_name: "Anna Kovacs", mode: "voice" }));
        const dialog = incomingDialog(page);
        await dialog.waitFor();
        await dialog.getByText("Anna Kovacs").waitFor();
        await dialog.getByText("Voice chat").waitFor();
        await dialog.getByText("Checkout").waitFor();
        await dialog.getByRole("button", { name: "Accept" }).click();
        await dialog.waitFor({ state: "hidden" });
        await page.getByRole("tab", { name: /Anna Kovacs/, selected: true }).waitFor();
        await page.getByRole("log", { name: "Messages with Anna Kovacs" }).waitFor();
        assert.equal(await navTo(page, /^Live Communication/).getAttribute("aria-current"), "page");
        assert.deepEqual(await fake(page, (f) => f.callsOf("accept")), [{ chatId: id }]);
        // the visitor profile was fetched when the tab opened
        assert.equal((await fake(page, (f) => f.callsOf("visitor_profile"))).length >= 1, true);
        if (vp.width < 1100) await page.getByRole("button", { name: /Visitor profile/ }).click();
        const profile = page.getByRole("region", { name: "Visitor profile" });
        await profile.getByText("Your cart").waitFor();
        await profile.getByText("Pat Kim", { exact: false }).waitFor();
      }));

    test("the dialog closes by itself when the request disappears", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.incoming({ visitor_name: "Ben" }));
        await incomingDialog(page).waitFor();
        await fake(page, (f, id) => f.dropRequest(id), id);
        await incomingDialog(page).waitFor({ state: "hidden" });
        await page.getByText("No one is asking for help right now.").waitFor();
      }));

    test("Escape puts the dialog aside; keyboard focus survives new snapshots", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.incoming({ visitor_name: "Gus" }));
        await incomingDialog(page).waitFor();
        await page.keyboard.press("Escape");
        await incomingDialog(page).waitFor({ state: "hidden" });
        const card = page.getByRole("listitem", { name: "Chat request from Gus" });
        await card.getByRole("button", { name: "Queue" }).focus();
        await fake(page, (f) => f.addChat({ visitor_name: "Someone" }, ["hi"]));
        await page.getByRole("list", { name: "My active chats" }).getByText("Someone").waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Queue");
        assert.equal(await incomingDialog(page).isVisible(), false, "a request already seen does not pop up again");
      }));

    test("Decline leaves the request to the others", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.incoming({ visitor_name: null }));
        const dialog = incomingDialog(page);
        await dialog.getByRole("heading", { name: "Visitor" }).waitFor();
        await dialog.getByRole("button", { name: "Decline" }).click();
        await dialog.waitFor({ state: "hidden" });
        await page.getByText("No one is asking for help right now.").waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("decline")), [{ chatId: id }]);
      }));

    test("Queue moves the request to the Communication Queue, which shows the wait and offers Take", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addQueued({ visitor_name: "Old Timer", created_at: Date.now() - 3 * 60_000 - 5000 }));
        const id = await fake(page, (f) => f.incoming({ visitor_name: "Cleo", created_at: Date.now() - 30_000 }));
        await incomingDialog(page).getByRole("button", { name: "Queue" }).click();
        await incomingDialog(page).waitFor({ state: "hidden" });
        await navTo(page, /^Communication Queue/).click();
        await page.getByRole("heading", { name: "Communication Queue" }).waitFor();
        const items = page.getByRole("list", { name: "Queued chats, oldest first" }).getByRole("listitem");
        await items.nth(1).waitFor();
        assert.match((await items.nth(0).textContent()) ?? "", /Old Timer.*Waiting 3 min/);
        assert.match((await items.nth(1).textContent()) ?? "", /Cleo.*Waiting 3\d s/);
        await items.nth(1).getByRole("button", { name: "Take" }).click();
        await page.getByRole("tab", { name: /Cleo/, selected: true }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("queue")), [{ chatId: id }]);
        assert.deepEqual(await fake(page, (f) => f.callsOf("accept")), [{ chatId: id }]);
      }));

    test("messages render as text: markup from a visitor creates no element", () =>
      withApp(vp, async ({ page }) => {
        const evil = '<img src=x onerror="window.__pwned=1"> <b>bold</b> <script>window.__pwned=2</script>';
        const id = await fake(page, (f) => f.addChat({ visitor_name: "<i>Eve</i>" }, ["hello"]));
        await fake(page, (f, a) => f.visitorSays(a.id, a.evil), { id, evil });
        await navTo(page, /^Live Communication/).click();
        const log = page.getByRole("log");
        await log.getByText(evil, { exact: true }).waitFor();
        assert.equal(await log.locator("img, b, script, i").count(), 0);
        await page.getByRole("tab", { name: /<i>Eve<\/i>/ }).waitFor();
        assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      }));

    test("send: Enter or the Send button sends, the input clears", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Dana" }, ["Is the blue one in stock?"]));
        await navTo(page, /^Live Communication/).click();
        const input = page.getByRole("textbox", { name: "Message" });
        await input.fill("Yes, it ships tomorrow.");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("log").getByText("Yes, it ships tomorrow.").waitFor();
        assert.equal(await input.inputValue(), "");
        await input.fill("Anything else?");
        await input.press("Enter");
        await page.getByRole("log").getByText("Anything else?").waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("send_message")), [
          { chatId: id, text: "Yes, it ships tomorrow." },
          { chatId: id, text: "Anything else?" },
        ]);
      }));

    test("unread badge on a background tab, cleared by mark_read when the tab is shown", () =>
      withApp(vp, async ({ page }) => {
        const a = await fake(page, (f) => f.addChat({ visitor_name: "Anna" }, ["hi"]));
        const b = await fake(page, (f) => f.addChat({ visitor_name: "Bruno" }, ["hey"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("tab", { name: /Anna/, selected: true }).waitFor();
        await fake(page, (f, b) => { f.visitorSays(b, "one"); f.visitorSays(b, "two"); }, b);
        await page.getByRole("tab", { name: "Bruno 2 unread" }).waitFor();
        assert.match((await navTo(page, /^Live Communication/).getAttribute("aria-label")) ?? "", /2 unread/);
        await page.getByRole("tab", { name: /Bruno/ }).click();
        await page.getByRole("tab", { name: "Bruno", exact: true, selected: true }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("mark_read")), [{ chatId: b }]);
        assert.notEqual(a, b);
      }));

    test("Hold and Resume", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Hank" }, ["hi"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("button", { name: "Hold" }).click();
        await page.getByRole("tab", { name: /Hank.*On hold/ }).waitFor();
        await page.getByText("On hold — the visitor has been told").waitFor();
        await page.getByRole("button", { name: "Resume" }).click();
        await page.getByRole("button", { name: "Hold" }).waitFor();
        assert.equal(await page.getByRole("tab", { name: /On hold/ }).count(), 0);
        assert.deepEqual(await fake(page, (f) => f.calls.filter((c) => c.cmd === "hold" || c.cmd === "resume")), [
          { cmd: "hold", args: { chatId: id } },
          { cmd: "resume", args: { chatId: id } },
        ]);
        // a chat on hold is listed under On hold in the overview; tapping it opens its tab
        await page.getByRole("button", { name: "Hold" }).click();
        await navTo(page, /^Communication Overview/).click();
        await page.getByRole("list", { name: "Chats on hold" }).getByRole("button", { name: /Hank/ }).click();
        await page.getByRole("tab", { name: /Hank/, selected: true }).waitFor();
      }));

    test("End chat asks for confirmation", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Ivy" }, ["bye"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("button", { name: "End chat" }).click();
        const confirm = page.getByRole("alertdialog", { name: "End chat with Ivy?" });
        await confirm.getByRole("button", { name: "Cancel" }).click();
        await confirm.waitFor({ state: "hidden" });
        assert.deepEqual(await fake(page, (f) => f.callsOf("end_chat")), []);
        await page.getByRole("button", { name: "End chat" }).click();
        await confirm.getByRole("button", { name: "End chat" }).click();
        await page.getByRole("heading", { name: "No live chats" }).waitFor();
        assert.deepEqual(await fake(page, (f) => f.callsOf("end_chat")), [{ chatId: id }]);
        assert.equal(await page.getByRole("alert").count(), 0, "no notice for a chat ended here");
      }));

    test("a chat the visitor ends leaves a notice and stays open, read-only, until closed", () =>
      withApp(vp, async ({ page }) => {
        const a = await fake(page, (f) => f.addChat({ visitor_name: "Nina" }, ["hi"]));
        await fake(page, (f) => f.addChat({ visitor_name: "Omar" }, ["hello"]));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("tab", { name: /Nina/, selected: true }).waitFor();
        const input = page.getByRole("textbox", { name: "Message" });
        await input.fill("Your parcel left on");
        await fake(page, (f, a) => f.visitorEnds(a), a);
        await page.getByRole("alert").filter({ hasText: "The chat with Nina has ended." }).waitFor();
        // Nina's chat stays: her tab selected, the draft still there, nothing can be sent.
        await page.getByRole("tab", { name: /Nina/, selected: true }).waitFor();
        await page.getByText("Chat ended", { exact: true }).waitFor();
        assert.equal(await input.inputValue(), "Your parcel left on");
        assert.ok(await input.isDisabled(), "the message box is read-only");
        await input.press("Enter").catch(() => undefined);
        assert.deepEqual(await fake(page, (f) => f.callsOf("send_message")), []);
        assert.equal(await page.getByRole("tab", { name: /Omar/, selected: true }).count(), 0, "no switch by itself");
        // Close: the operator chooses the next chat.
        await page.getByRole("button", { name: "Close", exact: true }).click();
        await page.getByRole("tab", { name: /Nina/ }).waitFor({ state: "detached" });
        await page.getByRole("heading", { name: "Choose a chat" }).or(page.getByRole("tab", { name: /Omar/ })).first().waitFor();
        assert.equal(await page.getByRole("tab", { name: /Omar/, selected: true }).count(), 0, "nothing opens by itself");
      }));

    test("canned picker: search, and a tap inserts the text without sending", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addChat({ visitor_name: "Jo" }, ["when will it ship?"]));
        await navTo(page, /^Live Communication/).click();
        const input = page.getByRole("textbox", { name: "Message" });
        await input.fill("Hi Jo. ");
        await page.getByRole("button", { name: "Canned" }).click();
        const picker = page.getByRole("dialog", { name: "Canned messages" });
        await picker.getByRole("searchbox", { name: "Search canned messages" }).fill("ship");
        const list = picker.getByRole("list", { name: "Canned messages list" });
        assert.equal(await list.getByRole("button").count(), 1);
        await list.getByRole("button", { name: /Shipping times/ }).click();
        await picker.waitFor({ state: "hidden" });
        assert.equal(await input.inputValue(), "Hi Jo. Orders ship within 2 working days.");
        assert.deepEqual(await fake(page, (f) => f.callsOf("send_message")), []);
      }));

    test("canned messages: create, edit and delete", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.addChat({ visitor_name: "Kim" }));
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("button", { name: "Canned" }).click();
        const d = page.getByRole("dialog", { name: "Canned messages" });
        await d.getByRole("button", { name: "Manage" }).click();
        await d.getByRole("button", { name: "New canned message" }).click();
        await d.getByLabel("Title").fill("Returns");
        await d.getByLabel("Text").fill("You can return items within 30 days.");
        await d.getByRole("button", { name: "Save" }).click();
        await d.getByRole("button", { name: "Edit Returns" }).click();
        assert.equal(await d.getByLabel("Text").inputValue(), "You can return items within 30 days.");
        await d.getByLabel("Title").fill("Returns policy");
        await d.getByRole("button", { name: "Save" }).click();
        await d.getByRole("button", { name: "Edit Returns policy" }).click();
        await d.getByRole("button", { name: "Delete" }).click();
        await d.getByRole("button", { name: "New canned message" }).waitFor();
        assert.equal(await d.getByRole("button", { name: /Edit Returns/ }).count(), 0);
        const calls = await fake(page, (f) => f.calls.filter((c) => c.cmd.endsWith("_canned")));
        assert.equal(calls.length, 3);
        assert.deepEqual(calls[0], { cmd: "save_canned", args: { id: null, title: "Returns", text: "You can return items within 30 days." } });
        assert.equal(calls[1].cmd, "save_canned");
        assert.equal(calls[1].args.title, "Returns policy");
        assert.equal(typeof calls[1].args.id, "number");
        assert.deepEqual(calls[2], { cmd: "delete_canned", args: { id: calls[1].args.id } });
      }));

    test("offline: the banner says so and lists the actions waiting to be sent", () =>
      withApp(vp, async ({ page }) => {
        const id = await fake(page, (f) => f.addChat({ visitor_name: "Lea" }, ["hello?"]));
        await navTo(page, /^Live Communication/).click();
        await fake(page, (f) => f.setConnection("offline"));
        const banner = page.getByRole("status").filter({ hasText: "Offline — showing saved chats" });
        await banner.waitFor();
        await page.getByRole("textbox", { name: "Message" }).fill("I'm here");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("button", { name: "Hold" }).click();
        await banner.getByText("2 actions waiting to be sent").waitFor();
        await banner.getByText("Send message").waitFor();
        await banner.getByText("Hold").waitFor();
        await page.getByRole("log").getByText("Sending…").waitFor();
        await fake(page, (f) => f.setConnection("connecting"));
        await page.getByRole("status").filter({ hasText: "Connecting…" }).waitFor();
        await fake(page, (f) => f.setConnection("online"));
        await page.getByRole("status").filter({ hasText: /Connecting|Offline|waiting/ }).waitFor({ state: "hidden" });
        assert.equal(await page.getByRole("log").getByText("Sending…").count(), 0);
        assert.ok(id);
      }));

    test("a command error shows as a dismissable notice", () =>
      withApp(vp, async ({ page }) => {
        await fake(page, (f) => f.incoming({ visitor_name: "Max" }));
        await fake(page, (f) => f.failNext("accept", "already_taken", "Olga has already taken this chat"));
        await incomingDialog(page).getByRole("button", { name: "Accept" }).click();
        const alert = page.getByRole("alert").filter({ hasText: "Olga has already taken this chat" });
        await alert.waitFor();
        await alert.getByRole("button", { name: "Dismiss" }).click();
        await alert.waitFor({ state: "hidden" });
      }));

    test("notices dismiss themselves: a note after 5 s, an error after 8 s", () =>
      withApp(vp, async ({ page }) => {
        await page.clock.install();
        const a = await fake(page, (f) => f.addChat({ visitor_name: "Nina" }, ["hi"]));
        await fake(page, (f, a) => f.visitorEnds(a), a);
        const note = page.getByRole("alert").filter({ hasText: "The chat with Nina has ended." });
        await note.waitFor();
        await fake(page, (f) => f.incoming({ visitor_name: "Max" }));
        await fake(page, (f) => f.failNext("accept", "already_taken", "Olga has already taken this chat"));
        await incomingDialog(page).getByRole("button", { name: "Accept" }).click();
        const error = page.getByRole("alert").filter({ hasText: "Olga has already taken this chat" });
        await error.waitFor();
        await page.mouse.move(1, 1); // not resting on a notice (that keeps it up)
        await page.clock.runFor(5_500);
        await note.waitFor({ state: "hidden" });
        assert.equal(await error.isVisible(), true, "an error stays up long enough to read");
        await page.clock.runFor(3_000);
        await error.waitFor({ state: "hidden" });
      }));

    test("every section is reachable from the navigation", () =>
      withApp(vp, async ({ page }) => {
        const sections: Array<[string | RegExp, string]> = [
          [/^Live Communication/, "Live Communication"],
          [/^Communication Queue/, "Communication Queue"],
          ["Visitors List", "Visitors List"],
          ["Reports", "Reports"],
          [/^Communication Overview/, "Communication Overview"],
        ];
        for (const [nav, heading] of sections) {
          await navTo(page, nav).click();
          await page.getByRole("heading", { name: heading, level: 1 }).waitFor({ state: "attached" });
          assert.equal(await navTo(page, nav).getAttribute("aria-current"), "page");
        }
        await navTo(page, "Visitors List").click();
        await page.getByText("Nobody is on your website right now.").waitFor();
        await navTo(page, "Reports").click();
        const offline = page.getByRole("list", { name: "Offline messages" });
        await offline.getByText("Pia Lund").waitFor();
        await offline.getByText("pia@example.org").waitFor();
        await offline.getByText("Please call me back about my order <b>#4411</b>.").waitFor();
        assert.equal(await offline.locator("b").count(), 0);
      }));

    test(`screenshot (${vp.name})`, async () => {
      const app = await openApp(bed.browser, bed.site, vp, { signedIn: true, available: true }, vp.mobile ? 2 : 1);
      try {
        const { page } = app;
        await fake(page, (f) => {
          const a = f.addChat({ visitor_name: "Anna Kovacs", created_at: Date.now() - 600_000 }, ["Hi! I can't find the delivery options for Norway.", "Do you ship there?"]);
          f.addChat({ visitor_name: "Bruno Silva", mode: "voice", page: { url: "https://shop.example.com/returns", title: "Returns" } }, ["Hello"]);
          f.visitorSays(f.snap.chats[1].chat.id, "Are you there?");
          f.addQueued({ visitor_name: "Chen Wei", created_at: Date.now() - 4 * 60_000 });
          f.handle("send_message", { chatId: a, text: "Hello Anna! Yes, we ship to Norway. Delivery takes 3–5 working days." });
          f.visitorSays(a, "Great, thank you!");
        });
        await navTo(page, /^Live Communication/).click();
        await page.getByRole("log").getByText("Great, thank you!").waitFor();
        await page.getByRole("textbox", { name: "Message" }).fill("You're welcome!");
        if (vp.width >= 1100) await page.getByRole("region", { name: "Visitor profile" }).getByText("Your cart").waitFor();
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}.png` });
        await navTo(page, /^Communication Overview/).click();
        await fake(page, (f) => f.incoming({ visitor_name: "Dora Novak", created_at: Date.now() - 12_000 }));
        await incomingDialog(page).waitFor();
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}-incoming.png` });
        await page.keyboard.press("Escape");
        await incomingDialog(page).waitFor({ state: "hidden" });
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}-overview.png` });
        await navTo(page, /^Live Communication/).click();
        await fake(page, (f) => { f.setConnection("offline"); });
        await page.getByRole("textbox", { name: "Message" }).fill("Back in a moment");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("button", { name: "Canned" }).click();
        await page.getByRole("dialog", { name: "Canned messages" }).waitFor();
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}-canned.png` });
        await page.keyboard.press("Escape");
        await page.screenshot({ path: `/tmp/switchboard-app-${vp.name}-offline.png` });
        assert.deepEqual(app.errors, []);
      } finally {
        await app.close();
      }
    });
  });
}
