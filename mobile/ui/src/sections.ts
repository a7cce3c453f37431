// Communication Queue and Reports (the Visitors List is monitor.ts).
import type { Controller } from "./controller";
import { avatar, empty, fill, h, icon, requestTitle, since } from "./dom";
import { capText, dateTime, visitorName } from "./format";

export function renderQueue(app: Pick<Controller, "s" | "isBusy" | "accept">, el: HTMLElement): void {
  const queue = [...app.s.snap!.queue].sort((a, b) => a.created_at - b.created_at);
  const cap = capText(app.s.snap!);
  fill(
    el,
    h("div", { class: "section-head" }, h("h1", null, "Communication Queue")),
    h("p", { class: "lead" }, "Visitors you or a colleague queued. They get no second notification, so take them as soon as you can."),
    queue.length > 0 && cap && h("p", { class: "cap-note", id: "cap-note-queue" }, cap),
    queue.length
      ? h("ol", { class: "cards queue-list", "aria-label": "Queued chats, oldest first" },
          queue.map((c, i) => {
            const busy = app.isBusy(`accept:${c.id}`);
            return h("li", { class: "card queued", "aria-label": `${visitorName(c)}, number ${i + 1} in the queue` },
              h("div", { class: "card-head" },
                h("span", { class: "position", "aria-hidden": "true" }, String(i + 1)),
                requestTitle(c),
              ),
              // the wait sits beside Take, so a long name keeps the card's first line to itself
              h("div", { class: "actions" },
                h("span", { class: "wait" }, icon("clock", "icon sm"), since(c.created_at, "Waiting ")),
                h("button", { type: "button", class: "btn primary", "data-fk": `take-${c.id}`, disabled: busy || !!cap, "aria-describedby": cap ? "cap-note-queue" : false, onclick: () => void app.accept(c.id) }, "Take"),
              ),
            );
          }))
      : empty("The Communication Queue is empty."),
  );
}

export function renderReports(app: Pick<Controller, "s" | "loadOfflineMessages">, el: HTMLElement): void {
  const list = app.s.offlineMessages;
  fill(
    el,
    h("div", { class: "section-head" }, h("h1", null, "Reports")),
    h("div", { class: "placeholder card compact" },
      h("p", null, "Charts and CSV reports arrive with a later update."),
      h("p", { class: "muted" }, "Chats requested, accepted, declined, queued and missed, wait and chat times, per operator and per day."),
    ),
    h("section", { class: "group" },
      h("div", { class: "group-head" },
        h("h2", null, "Offline messages"),
        h("button", { type: "button", class: "btn small", "data-fk": "refresh", disabled: list === "loading", onclick: () => app.loadOfflineMessages() }, "Refresh"),
      ),
      h("p", { class: "muted small" }, "Messages visitors left when nobody could answer."),
      list === null || list === "loading"
        ? h("p", { class: "empty" }, "Loading offline messages…")
        : list === "error"
          ? h("p", { class: "empty" }, "Offline messages cannot be loaded right now.")
          : list.length === 0
            ? empty("No offline messages.")
            : h("ul", { class: "cards", "aria-label": "Offline messages" },
                [...list].sort((a, b) => b.created_at - a.created_at).map((m) =>
                  h("li", { class: "card offline-msg" },
                    h("div", { class: "card-head" },
                      avatar(m.name || "?"),
                      h("div", { class: "card-title" },
                        h("strong", null, m.name || "Visitor"),
                        h("span", { class: "meta" }, icon("mail", "icon sm"), h("span", null, m.email)),
                      ),
                      h("time", { class: "muted small", datetime: new Date(m.created_at).toISOString() }, dateTime(m.created_at)),
                    ),
                    h("p", { class: "offline-text" }, m.text),
                  ),
                ),
              ),
    ),
  );
}
