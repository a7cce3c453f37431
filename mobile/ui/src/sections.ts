// Communication Queue (the Visitors List is monitor.ts, Reports reports.ts).
import type { Controller } from "./controller";
import { empty, fill, h, icon, requestTitle, since } from "./dom";
import { capText, visitorName } from "./format";

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
