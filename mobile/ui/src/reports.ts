// Reports: the help desk's figures for a period (figures.ts: tiles, charts, the chats behind
// them, CSV), and under them the offline messages visitors left ("Leave a message"), newest
// first, each with "Reply by mail" while the server has mail, and who replied when. The app loads
// the offline messages and tells the core what the operator has seen; this view answers.
//
// The list is rebuilt only when what it shows changes, and a reply being written is kept in its
// own form (built once per message), so a snapshot arriving mid-sentence loses nothing. The
// figures repaint only on their own changes, for the same reason.
import { api, errorMessage } from "./api";
import type { OfflineMessage } from "./bindings";
import { MAX_MESSAGE_CHARS } from "./bindings";
import type { Controller } from "./controller";
import { avatar, empty, fill, h, icon } from "./dom";
import { ReportPanel } from "./figures";
import { atTime, charCount, dateTime } from "./format";

type ReportsController = Pick<Controller, "s" | "render" | "loadOfflineMessages">;

/** A reply being written to one offline message. */
interface Reply {
  form: HTMLFormElement;
  text: HTMLTextAreaElement;
  send: HTMLButtonElement;
  error: HTMLElement;
  busy: boolean;
}

/** "Replied by Olga Berg at 10:02". */
export function repliedText(m: OfflineMessage): string | null {
  if (m.replied_at === null) return null;
  return m.replied_by ? `Replied by ${m.replied_by} ${atTime(m.replied_at)}` : `Replied ${atTime(m.replied_at)}`;
}

export class ReportsSection {
  private panel: ReportPanel;
  private head: HTMLElement;
  private jump: HTMLButtonElement;
  private jumpCount = -1;
  private offline: HTMLElement;
  private refresh: HTMLButtonElement;
  private note: HTMLElement;
  private listHost: HTMLElement;
  private listKey = "";
  private replies = new Map<number, Reply>();

  constructor(private app: ReportsController, readonly el: HTMLElement) {
    this.refresh = h("button", { type: "button", class: "btn small", "data-fk": "refresh", onclick: () => app.loadOfflineMessages() }, "Refresh");
    this.note = h("p", { class: "form-error", role: "alert", hidden: true });
    this.listHost = h("div", { class: "offline-host" });
    this.panel = new ReportPanel(() => this.placeParts());
    // the offline messages are under the figures: a phone gets there in one tap
    this.jump = h("button", { type: "button", class: "btn small ghost jump", "data-fk": "jump-offline", onclick: () => this.toOffline() });
    this.head = h("div", { class: "section-head reports-head" }, h("h1", null, "Reports"), this.jump);
    this.offline = h("section", { class: "group offline-group", "aria-labelledby": "offline-title" },
      h("div", { class: "group-head" },
        h("h2", { id: "offline-title", tabindex: "-1" }, "Offline messages"),
        this.refresh,
      ),
      h("p", { class: "muted small" }, "Messages visitors left when nobody could answer."),
      this.note,
      this.listHost,
    );
    fill(el, this.head, this.panel.el, this.offline);
  }

  /** Reports was opened (from the navigation). */
  shown(): void {
    this.panel.shown();
  }

  /** A list of chats or a transcript takes the whole section; the report shares it. */
  private placeParts(): void {
    const report = this.panel.mode === "report";
    this.head.hidden = !report;
    this.offline.hidden = !report;
  }

  private toOffline(): void {
    this.offline.scrollIntoView({ block: "start" });
    this.offline.querySelector<HTMLElement>("#offline-title")?.focus({ preventScroll: true });
  }

  render(): void {
    const s = this.app.s;
    const op = s.snap?.signed_in?.operator;
    this.panel.sync(op ? { key: `${s.snap!.signed_in!.server} ${op.id} ${op.is_admin}`, id: op.id, name: op.name, isAdmin: op.is_admin, online: s.snap!.connection === "online" } : null);
    const unread = s.snap?.offline_unread ?? 0;
    if (this.jumpCount !== unread) {
      this.jumpCount = unread;
      fill(this.jump, icon("mail", "icon sm"), h("span", null, "Offline messages"), unread > 0 && h("span", { class: "count", "aria-hidden": "true" }, String(unread)));
      this.jump.setAttribute("aria-label", unread ? `Offline messages, ${unread} new` : "Offline messages");
    }
    const list = s.offlineMessages;
    const mail = !!s.snap?.mail;
    this.refresh.disabled = s.offlineLoading;
    // a failed refresh keeps the list it had, and says so
    const failed = s.offlineError !== null && !s.offlineLoading && list !== null;
    this.note.hidden = !failed;
    this.note.textContent = failed ? `Offline messages cannot be refreshed right now: ${s.offlineError}` : "";
    const key = JSON.stringify([
      list?.map((m) => [m.id, m.replied_at, m.replied_by, s.offlineNew.has(m.id)]) ?? null,
      list === null && s.offlineError !== null && !s.offlineLoading,
      mail,
      [...this.replies.keys()],
    ]);
    if (key === this.listKey) return;
    this.listKey = key;
    fill(this.listHost,
      list === null
        ? s.offlineError !== null && !s.offlineLoading
          ? h("p", { class: "empty", role: "alert" }, "Offline messages cannot be loaded right now.")
          : h("p", { class: "empty", role: "status" }, "Loading offline messages…")
        : list.length === 0
          ? empty("No offline messages.")
          : h("ul", { class: "cards", "aria-label": "Offline messages" },
              [...list].sort((a, b) => b.created_at - a.created_at || b.id - a.id).map((m) => this.card(m, mail))),
    );
  }

  private card(m: OfflineMessage, mail: boolean): HTMLElement {
    const name = m.name.trim() || "Visitor";
    const replied = repliedText(m);
    const reply = this.replies.get(m.id);
    return h("li", { class: "card offline-msg", "aria-label": `Offline message from ${name}`, "data-offline-id": m.id },
      h("div", { class: "card-head" },
        avatar(name),
        h("div", { class: "card-title" },
          h("strong", null, name),
          h("span", { class: "meta" }, icon("mail", "icon sm"), h("span", null, m.email)),
        ),
        h("div", { class: "offline-when" },
          this.app.s.offlineNew.has(m.id) && h("span", { class: "chip new" }, "New"),
          h("time", { class: "muted small", datetime: new Date(m.created_at).toISOString() }, dateTime(m.created_at)),
        ),
      ),
      // text nodes only: whatever a visitor wrote shows literally
      h("p", { class: "offline-text" }, m.text),
      replied && h("p", { class: "replied" }, icon("check", "icon sm"), h("span", null, replied)),
      mail && (reply
        ? reply.form
        : h("div", { class: "offline-actions" },
            h("button", { type: "button", class: "btn small", "data-fk": `reply-open-${m.id}`, "aria-expanded": "false", onclick: () => this.openReply(m) },
              icon("mail", "icon sm"), h("span", null, "Reply by mail")))),
    );
  }

  private openReply(m: OfflineMessage): void {
    let r = this.replies.get(m.id);
    if (!r) {
      r = this.replyForm(m);
      this.replies.set(m.id, r);
    }
    this.app.render();
    const text = r.text;
    requestAnimationFrame(() => text.focus());
  }

  private closeReply(id: number): void {
    this.replies.delete(id);
    this.app.render();
    requestAnimationFrame(() => this.el.querySelector<HTMLElement>(`[data-fk="reply-open-${id}"]`)?.focus());
  }

  /** The form a reply is written in: the text, Send, Cancel, and why it was not sent. */
  private replyForm(m: OfflineMessage): Reply {
    const id = `reply-text-${m.id}`;
    const text = h("textarea", { id, class: "reply-text", rows: 4, "data-fk": id, "aria-describedby": `${id}-to`,
      oninput: () => { r.error.hidden = true; } });
    const send = h("button", { type: "submit", class: "btn primary", "data-fk": `${id}-send` }, icon("send", "icon sm"), h("span", null, "Send"));
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h("form", { class: "reply-form", "aria-label": `Reply by mail to ${m.name.trim() || "Visitor"}`,
      onsubmit: (e: Event) => { e.preventDefault(); void this.sendReply(m.id); } },
      h("label", { for: id }, "Your reply"),
      h("p", { class: "muted small reply-to", id: `${id}-to` }, `To ${m.email}`),
      text,
      error,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn ghost", onclick: () => this.closeReply(m.id) }, "Cancel"),
        send,
      ),
    );
    const r: Reply = { form, text, send, error, busy: false };
    return r;
  }

  private async sendReply(id: number): Promise<void> {
    const r = this.replies.get(id);
    if (!r || r.busy) return;
    const fail = (why: string) => {
      r.error.textContent = why;
      r.error.hidden = false;
    };
    const text = r.text.value;
    if (!text.trim()) return fail("Write your reply first.");
    if (charCount(text) > MAX_MESSAGE_CHARS) return fail(`A reply is limited to ${MAX_MESSAGE_CHARS} characters.`);
    r.busy = true;
    r.send.disabled = true;
    r.error.hidden = true;
    try {
      const updated = await api.replyOffline(id, text);
      const s = this.app.s;
      if (s.offlineMessages) s.offlineMessages = s.offlineMessages.map((m) => (m.id === id ? updated : m));
      this.closeReply(id);
    } catch (e) {
      fail(errorMessage(e));
    } finally {
      r.busy = false;
      r.send.disabled = false;
    }
  }
}
