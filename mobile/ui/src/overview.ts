// Communication Overview: incoming chat requests, my active chats, chats on hold.
import type { ChatSummary, ChatView } from "./bindings";
import type { Controller } from "./controller";
import { avatar, empty, fill, h, icon, requestTitle, since } from "./dom";
import { capText, modeLabel, visitorName } from "./format";

/** What the overview asks of the app. */
type OverviewController = Pick<Controller, "s" | "isBusy" | "go" | "accept" | "queue" | "decline">;

export function renderOverview(app: OverviewController, el: HTMLElement): void {
  const snap = app.s.snap!;
  const op = snap.signed_in!.operator;
  const active = snap.chats.filter((c) => c.chat.status !== "on_hold");
  const onHold = snap.chats.filter((c) => c.chat.status === "on_hold");
  const cap = capText(snap);

  fill(
    el,
    h("div", { class: "section-head" }, h("h1", null, "Communication Overview")),
    !op.available &&
      h("div", { class: "hint" }, icon("bell"),
        h("p", null, "You are Live Help Not Available, so no new chat requests reach you. Tap the Live Help button to become available."),
      ),
    h("div", { class: "overview-grid" },
      group("Incoming chat requests", snap.requests.length,
        snap.requests.length
          ? h("div", null,
              cap && h("p", { class: "cap-note", id: "cap-note-overview" }, cap),
              h("ul", { class: "cards", "aria-label": "Incoming chat requests" }, snap.requests.map((r) => requestCard(app, r, cap !== null))))
          : empty(op.available ? "No one is asking for help right now." : "No incoming chat requests."),
      ),
      group("My active chats", active.length,
        active.length ? h("ul", { class: "rows", "aria-label": "My active chats" }, active.map((c) => chatRow(app, c))) : empty("No active chats."),
      ),
      group("On hold", onHold.length,
        onHold.length ? h("ul", { class: "rows", "aria-label": "Chats on hold" }, onHold.map((c) => chatRow(app, c))) : empty("No chats on hold."),
      ),
      snap.queue.length > 0 &&
        h("button", { type: "button", class: "queue-link", "data-fk": "queue-link", onclick: () => app.go("queue") },
          icon("inbox"),
          h("span", null, `${snap.queue.length} in the Communication Queue`),
          h("span", { class: "muted" }, "Oldest waiting ", since(snap.queue[0].created_at)),
        ),
    ),
  );
}

function group(title: string, count: number, body: HTMLElement): HTMLElement {
  return h("section", { class: "group" },
    h("h2", null, title, count > 0 && h("span", { class: "count" }, String(count))),
    body,
  );
}

function requestCard(app: OverviewController, r: ChatSummary, atCap: boolean): HTMLElement {
  const busy = app.isBusy(`accept:${r.id}`) || app.isBusy(`decline:${r.id}`) || app.isBusy(`queue:${r.id}`);
  return h("li", { class: "card request", "aria-label": `Chat request from ${visitorName(r)}` },
    h("div", { class: "card-head" },
      requestTitle(r),
      since(r.created_at, "", "since pill"),
    ),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "btn primary", "data-fk": `accept-${r.id}`, disabled: busy || atCap, "aria-describedby": atCap ? "cap-note-overview" : false, onclick: () => void app.accept(r.id) }, "Accept"),
      h("button", { type: "button", class: "btn", "data-fk": `queue-${r.id}`, disabled: busy, onclick: () => app.queue(r.id) }, "Queue"),
      h("button", { type: "button", class: "btn subtle-danger", "data-fk": `decline-${r.id}`, disabled: busy, onclick: () => app.decline(r.id) }, "Decline"),
    ),
  );
}

function chatRow(app: OverviewController, c: ChatView): HTMLElement {
  const name = visitorName(c.chat);
  const last = [...c.messages].reverse().find((m) => m.author.kind !== "system");
  const preview = last ? (last.author.kind === "visitor" ? "" : "You: ") + last.text : modeLabel(c.chat.mode);
  return h("li", null,
    h("button", { type: "button", class: "row", "data-fk": `row-${c.chat.id}`, onclick: () => app.go("live", c.chat.id) },
      avatar(name),
      h("span", { class: "row-main" },
        h("span", { class: "row-title" }, h("span", { class: "row-name" }, name), c.chat.status === "on_hold" && h("span", { class: "chip hold" }, "On hold")),
        h("span", { class: "row-sub" }, preview),
      ),
      c.unread > 0 && h("span", { class: "badge" }, String(c.unread), h("span", { class: "sr-only" }, " unread")),
    ),
  );
}
