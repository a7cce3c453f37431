// "Send chat transcript": a drop-down of addresses (the visitor's, the operator's own, the team's,
// or another typed in), Send, and under it each transcript mailed from the chat with where it
// stands. Shared by Live Communication and History; a leaf like transcript.ts (it takes no
// Controller): its owner hands it what the snapshot or the transcript says on every render.
//
// The form is built once per chat and kept (the owner moves it only when the chat changes), so a
// snapshot arriving while the drop-down is open or an address half typed disturbs nothing. It
// shows only while the server has mail configured. A running chat's mails come with the
// snapshots; an ended chat's do not, so after Send its transcript is fetched again every second
// while a mail is queued, for at most 30 s, and until the owner closes the form.
import { api, errorMessage } from "./api";
import type { MailInfo, Transcript, TranscriptMailView } from "./bindings";
import { fill, h, icon } from "./dom";
import { atTime, looksLikeEmail } from "./format";

/** What the form shows, as the owner knows it now. */
export interface MailFacts {
  /** The server's mail (null: not configured, the form is hidden). */
  mail: MailInfo | null;
  /** The signed-in operator's own address. */
  me: string | null;
  /** The address the visitor gave, if any. */
  visitorEmail: string | null;
  /** Transcripts mailed from the chat, each at its latest state. */
  mails: TranscriptMailView[];
  /** The chat has ended: its mails no longer come with snapshots (poll the transcript). */
  ended: boolean;
}

interface Choice {
  value: string;
  text: string;
  to: string;
}

const OTHER = "other";
const POLL_MS = 1000;
const POLL_FOR_MS = 30_000;

/** The words for a mail's state: "Sending to X…", "Sent to X at 10:02", "Not sent to X: why". */
export function mailStateText(m: TranscriptMailView, now = Date.now()): string {
  switch (m.state) {
    case "queued":
      return `Sending to ${m.to}…`;
    case "sent":
      return `Sent to ${m.to} ${atTime(m.at, now)}`;
    case "failed":
      return m.detail ? `Not sent to ${m.to}: ${m.detail}` : `Not sent to ${m.to}.`;
  }
}

export class TranscriptMailer {
  readonly el: HTMLFormElement;
  private select: HTMLSelectElement;
  private otherField: HTMLElement;
  private other: HTMLInputElement;
  private send: HTMLButtonElement;
  private error: HTMLElement;
  private list: HTMLUListElement;
  private choices: Choice[] = [];
  private choicesKey = "";
  private listKey = "";
  private facts: MailFacts | null = null;
  private busy = false;
  private timer: number | undefined;
  private pollUntil = 0;
  private polled = false;
  private closed = false;

  /** `scope` keeps ids apart when two views show the same chat ("live", "history");
   *  `refreshed` gets an ended chat's transcript fetched again (the owner keeps its mails). */
  constructor(readonly chatId: number, scope: string, private refreshed: (t: Transcript) => void, cls = "") {
    const id = `${scope}-mail-${chatId}`;
    this.select = h("select", { id: `${id}-to`, class: "mail-to", "data-fk": `${id}-to`, onchange: () => this.onChoice() });
    this.other = h("input", { id: `${id}-other`, class: "mail-other-input", type: "email", inputmode: "email", autocomplete: "email",
      spellcheck: "false", placeholder: "name@example.com", "data-fk": `${id}-other`, oninput: () => this.showError(null) });
    this.otherField = h("div", { class: "mail-other", hidden: true },
      h("label", { for: `${id}-other` }, "E-mail address"),
      this.other,
    );
    this.send = h("button", { type: "submit", class: "btn primary mail-send", "data-fk": `${id}-send` }, icon("send", "icon sm"), h("span", null, "Send"));
    this.error = h("p", { class: "mail-error", role: "alert", hidden: true });
    this.list = h("ul", { class: "mail-list", "aria-label": "Transcripts mailed", "aria-live": "polite", hidden: true });
    this.el = h("form", { class: `mail-form ${cls}`.trim(), "aria-label": "Send chat transcript", hidden: true, novalidate: true,
      onsubmit: (e: Event) => { e.preventDefault(); void this.submit(); } },
      h("label", { class: "mail-label", for: `${id}-to` }, icon("mail", "icon sm"), h("span", null, "Send chat transcript")),
      // Send sits beside the last field: the drop-down, or the address typed in under it
      h("div", { class: "mail-fields" }, this.select, this.otherField, this.send),
      this.error,
      this.list,
    );
  }

  /** Shows what the owner knows now; call it on every render. */
  update(f: MailFacts): void {
    if (this.closed) return;
    this.facts = f;
    this.el.hidden = !f.mail;
    if (!f.mail) return;
    this.renderChoices(f);
    this.renderList(f.mails);
    this.send.disabled = this.busy;
    // an ended chat opened with a mail still on its way: follow it (once; Send starts again)
    if (f.ended && !this.polled && f.mails.some((m) => m.state === "queued")) this.follow();
  }

  /** The owner stopped showing the chat: no more fetching. */
  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
  }

  private renderChoices(f: MailFacts): void {
    const choices: Choice[] = [];
    const seen = new Set<string>();
    const add = (value: string, text: string, to: string) => {
      const key = to.trim().toLowerCase();
      if (!key || seen.has(key)) return;
      seen.add(key);
      choices.push({ value, text, to: to.trim() });
    };
    if (f.visitorEmail) add("visitor", `Visitor — ${f.visitorEmail}`, f.visitorEmail);
    if (f.me) add("me", `Me — ${f.me}`, f.me);
    for (const a of f.mail?.addresses ?? []) add(`team:${a.trim().toLowerCase()}`, `Team — ${a}`, a);
    const key = JSON.stringify(choices);
    if (key === this.choicesKey) return;
    this.choicesKey = key;
    this.choices = choices;
    // keep what the operator chose when the list changes (a team address added…)
    const was = this.select.value;
    fill(this.select,
      choices.map((c) => h("option", { value: c.value }, c.text)),
      h("option", { value: OTHER }, "Other address…"),
    );
    this.select.value = was && (was === OTHER || choices.some((c) => c.value === was)) ? was : (choices[0]?.value ?? OTHER);
    this.onChoice(false);
  }

  private onChoice(byHand = true): void {
    const other = this.select.value === OTHER;
    this.otherField.hidden = !other;
    this.el.classList.toggle("other", other);
    if (byHand) {
      this.showError(null);
      if (other) this.other.focus();
    }
  }

  private renderList(mails: TranscriptMailView[]): void {
    const sorted = [...mails].sort((a, b) => b.mail_id - a.mail_id);
    const key = sorted.map((m) => `${m.mail_id}:${m.state}:${m.at}:${m.detail ?? ""}:${m.by}`).join("|");
    if (key === this.listKey) return;
    this.listKey = key;
    this.list.hidden = sorted.length === 0;
    fill(this.list, sorted.map((m) =>
      h("li", { class: `mail-state ${m.state}`, "data-mail-id": m.mail_id, "data-state": m.state },
        icon(m.state === "sent" ? "check" : m.state === "failed" ? "alert" : "clock", "icon sm"),
        h("span", { class: "mail-state-text" },
          // text nodes only: an address or a server's answer shows literally
          h("span", { class: "mail-what" }, mailStateText(m)),
          h("span", { class: "mail-by" }, m.by === "Visitor" ? "Asked by the visitor" : `Asked by ${m.by}`),
        ),
      )));
  }

  private showError(text: string | null): void {
    this.error.hidden = text === null;
    this.error.textContent = text ?? "";
  }

  /** The address chosen, or why there is none. */
  private address(): { to: string } | { why: string } {
    if (this.select.value !== OTHER) {
      const c = this.choices.find((x) => x.value === this.select.value);
      return c ? { to: c.to } : { why: "Choose where to send the transcript." };
    }
    const to = this.other.value.trim();
    if (!to) return { why: "Enter the e-mail address to send the transcript to." };
    if (!looksLikeEmail(to)) return { why: `“${to}” is not an e-mail address.` };
    return { to };
  }

  private async submit(): Promise<void> {
    if (this.busy || !this.facts?.mail) return;
    const a = this.address();
    if ("why" in a) {
      this.showError(a.why);
      if (this.select.value === OTHER) this.other.focus();
      return;
    }
    this.busy = true;
    this.send.disabled = true;
    this.showError(null);
    try {
      await api.mailTranscript(this.chatId, a.to);
      if (this.select.value === OTHER) this.other.value = "";
      if (this.facts?.ended) this.follow();
    } catch (e) {
      this.showError(errorMessage(e));
    } finally {
      this.busy = false;
      this.send.disabled = false;
    }
  }

  /** Fetches the ended chat's transcript now, then every second while a mail is queued, for
   *  at most 30 s. */
  private follow(): void {
    this.polled = true;
    this.pollUntil = Date.now() + POLL_FOR_MS;
    this.poll(0);
  }

  private poll(delay: number): void {
    window.clearTimeout(this.timer);
    if (this.closed || Date.now() > this.pollUntil) return;
    this.timer = window.setTimeout(() => {
      api.transcript(this.chatId).then(
        (t) => {
          if (this.closed) return;
          this.refreshed(t);
          if (t.mails.some((m) => m.state === "queued")) this.poll(POLL_MS);
        },
        () => this.poll(POLL_MS),
      );
    }, delay);
  }
}
