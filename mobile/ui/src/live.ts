// Live Communication: one tab per own chat, the visitor profile (with "Send chat transcript"
// when the server has mail), the messages and the composer.
import { api } from "./api";
import type { ChatView, MessageView, Transcript, VisitorProfile } from "./bindings";
import { MAX_MESSAGE_CHARS } from "./bindings";
import type { Controller } from "./controller";
import { avatar, callClock, fill, h, icon } from "./dom";
import { charCount, clock, dateTime, modeLabel, pageLabel, shortUrl, visitorName } from "./format";
import { TranscriptMailer } from "./mail";
import { findChat } from "./state";

/** What Live Communication asks of the app. */
type LiveController = Pick<Controller, "s" | "render" | "isBusy" | "go" | "openChat" | "hold" | "resume" | "askEnd" | "send" | "openCanned" | "closeEnded" | "callInvite" | "callEnd" | "callMute">;

export class LiveView {
  readonly el: HTMLElement;
  private heading: HTMLElement;
  private tabs: HTMLElement;
  private panel: HTMLElement;
  private head: HTMLElement;
  private holdNote: HTMLElement;
  private profileToggle: HTMLButtonElement;
  private profile: HTMLElement;
  private profileBody: HTMLElement;
  /** Holds the open chat's "Send chat transcript" form (kept per chat, never rebuilt). */
  private mailSlot: HTMLElement;
  private mailers = new Map<number, TranscriptMailer>();
  private log: HTMLElement;
  private composer: HTMLFormElement;
  private input: HTMLTextAreaElement;
  private sendBtn: HTMLButtonElement;
  private counter: HTMLElement;
  private emptyEl: HTMLElement;
  private listCol: HTMLElement;
  private logKey = "";
  private logChat: number | null = null;
  private composerChat: number | null = null;
  private tabsShown: number | null = null;
  private draftTimers = new Map<number, number>();
  private endedNote: HTMLElement;
  private callBar: HTMLElement;

  constructor(private app: LiveController) {
    this.heading = h("h1", { class: "live-title" }, "Live Communication");
    this.tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Chats", "aria-orientation": "horizontal", onkeydown: (e: KeyboardEvent) => this.onTabKey(e) });
    this.head = h("header", { class: "chat-head" });
    this.holdNote = h("p", { class: "hold-note", hidden: true }, icon("pause", "icon sm"), "On hold — the visitor has been told you will be back shortly.");
    // Below 1280 px the profile gives the conversation its room: a toggle opens it over the
    // messages (a drawer); wider, it is a column of its own and the toggle is not shown.
    this.profileToggle = h("button", { type: "button", class: "profile-toggle", "aria-expanded": "false", "aria-controls": "visitor-profile",
      onclick: () => this.setProfileOpen(!this.app.s.profileExpanded) });
    // The transcript form sits at the top of the profile: a drawer on phones and tablets, out of
    // the composer's way; a column from 1280 px. Only the profile's body is rebuilt on a render.
    this.mailSlot = h("div", { class: "mail-slot" });
    this.profileBody = h("div", { class: "profile-body" });
    this.profile = h("section", { class: "profile", id: "visitor-profile", "aria-label": "Visitor profile", tabindex: "-1",
      onkeydown: (e: KeyboardEvent) => { if (e.key === "Escape" && this.app.s.profileExpanded) { e.stopPropagation(); this.setProfileOpen(false); } } },
      h("div", { class: "profile-head" },
        h("h2", { class: "profile-title" }, "Visitor profile"),
        h("button", { type: "button", class: "icon-btn profile-close", "aria-label": "Close", onclick: () => this.setProfileOpen(false) }, icon("x")),
      ),
      this.mailSlot,
      this.profileBody,
    );
    this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
    this.input = h("textarea", { class: "message-input", "aria-label": "Message", rows: 1, placeholder: "Type a message…", enterkeyhint: "send",
      oninput: () => this.onInput(), onkeydown: (e: KeyboardEvent) => this.onKey(e) });
    this.sendBtn = h("button", { type: "submit", class: "btn primary send" }, icon("send", "icon sm"), h("span", null, "Send"));
    this.counter = h("span", { class: "counter", hidden: true });
    this.composer = h("form", { class: "composer", onsubmit: (e: Event) => { e.preventDefault(); void this.submit(); } },
      h("button", { type: "button", class: "btn ghost canned-btn", onclick: () => this.app.openCanned() }, icon("canned", "icon sm"), h("span", { class: "canned-label" }, "Canned")),
      h("div", { class: "input-wrap" }, this.input, this.counter),
      this.sendBtn,
    );
    this.endedNote = h("p", { class: "ended-note", role: "status", hidden: true });
    this.callBar = h("div", { class: "call-bar", role: "group", "aria-label": "Voice call", hidden: true });
    this.panel = h("div", { class: "chat-panel", role: "tabpanel", id: "chat-panel" },
      this.head, this.callBar, this.holdNote, this.profileToggle, this.profile, this.log, this.endedNote, this.composer);
    this.emptyEl = h("div", { class: "live-empty", hidden: true });
    this.listCol = h("div", { class: "chat-list" }, this.heading, this.tabs);
    this.el = h("section", { class: "section section-live", "aria-label": "Live Communication" },
      h("div", { class: "live-layout" }, this.listCol, this.panel, this.emptyEl));
  }

  render(): void {
    const s = this.app.s;
    const snap = s.snap!;
    const chats = snap.chats;

    // Which tab is open. The first one opens by itself only when none was open yet: a chat that
    // ends stays on screen (closedChat) until the operator closes it.
    const closed = s.closedChat && s.closedChat.view.chat.id === s.openChat ? s.closedChat : null;
    let chat = closed ? closed.view : findChat(s, s.openChat);
    if (!chat && !closed && s.autoOpen && s.openChat === null && s.awaitingChat === null && chats.length) {
      s.openChat = chats[0].chat.id;
      s.profileFetchedFor = null;
      chat = chats[0];
    }
    if (chat) s.autoOpen = false;

    this.renderTabs(closed ? [...chats, closed.view] : chats, chat?.chat.id ?? null);
    const nothing = !chat;
    this.panel.hidden = nothing;
    this.tabs.hidden = chats.length === 0 && !closed;
    this.listCol.classList.toggle("no-chats", chats.length === 0 && !closed);
    this.emptyEl.hidden = !nothing;
    if (!chat) {
      this.saveDraft();
      this.composerChat = null;
      fill(this.emptyEl,
        s.awaitingChat !== null
          ? h("p", { class: "empty" }, "Opening chat…")
          : chats.length
            ? [
                h("div", { class: "empty-art", "aria-hidden": "true" }, icon("chat")),
                h("h2", null, "Choose a chat"),
                h("p", { class: "muted" }, `${chats.length === 1 ? "One chat is" : `${chats.length} chats are`} still open: pick one from the list.`),
              ]
            : [
              h("div", { class: "empty-art", "aria-hidden": "true" }, icon("chat")),
              h("h2", null, "No live chats"),
              h("p", { class: "muted" }, "Accept a request in the Communication Overview, or take a visitor from the Communication Queue."),
              h("div", { class: "actions center" },
                h("button", { type: "button", class: "btn", onclick: () => this.app.go("overview") }, "Communication Overview"),
                h("button", { type: "button", class: "btn", onclick: () => this.app.go("queue") }, "Communication Queue"),
              ),
            ],
      );
      return;
    }

    const id = chat.chat.id;
    this.panel.setAttribute("aria-labelledby", `tab-${id}`);
    this.panel.classList.toggle("closed", !!closed);
    this.renderHead(chat, closed !== null);
    this.renderCall(chat, closed !== null);
    this.holdNote.hidden = !!closed || chat.chat.status !== "on_hold";
    this.renderProfile(chat);
    this.renderMail(chat, closed !== null);
    this.renderLog(chat);
    this.syncComposer(id, chat.draft);
    this.endedNote.hidden = !closed && !chat.ending;
    this.endedNote.textContent = closed
      ? `${closed.why} Nothing more can be sent here.`
      : chat.ending ? "Ending — End chat is sent when the connection is back." : "";
    const readOnly = !!closed || chat.ending;
    if (readOnly && document.activeElement === this.input) this.input.blur();
    this.input.disabled = readOnly;
    this.sendBtn.disabled = readOnly || this.input.value.trim() === "" || charCount(this.input.value) > MAX_MESSAGE_CHARS;
    this.composer.querySelector<HTMLButtonElement>(".canned-btn")!.disabled = readOnly;
    this.maybeFetchProfile(chat);
    if (!closed) this.maybeMarkRead(chat);
  }

  /** Puts `text` into the message input at the cursor (it is not sent). */
  insert(text: string): void {
    const el = this.input;
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.value = el.value.slice(0, start) + text + el.value.slice(end);
    const pos = start + text.length;
    el.focus();
    el.setSelectionRange(pos, pos);
    this.onInput();
  }

  /** Opens or closes the visitor profile drawer (below 1280 px), keeping keyboard focus sensible. */
  private setProfileOpen(open: boolean): void {
    const s = this.app.s;
    s.profileExpanded = open;
    this.app.render();
    // after the render: focus the drawer that opened, or give it back to the toggle
    requestAnimationFrame(() => (open ? this.profile : this.profileToggle).focus({ preventScroll: true }));
  }

  // ---- tabs ---------------------------------------------------------------------------------

  private renderTabs(chats: ChatView[], openId: number | null): void {
    const focused = document.activeElement instanceof HTMLElement && this.tabs.contains(document.activeElement) ? document.activeElement.id : null;
    fill(
      this.tabs,
      chats.map((c) => {
        const name = visitorName(c.chat);
        const selected = c.chat.id === openId;
        return h("button", { type: "button", role: "tab", id: `tab-${c.chat.id}`, class: "tab", "aria-selected": String(selected), "aria-controls": "chat-panel",
          tabindex: selected ? "0" : "-1", onclick: () => { this.app.openChat(c.chat.id); this.app.render(); } },
          avatar(name, "avatar sm"),
          h("span", { class: "tab-main" },
            h("span", { class: "tab-name" }, name),
            // the open chat says it in its hold note: "On hold" shows once
            c.chat.status === "on_hold" && h("span", { class: selected ? "sr-only" : "chip hold" }, "On hold")),
          c.unread > 0 && h("span", { class: "badge" }, String(c.unread), h("span", { class: "sr-only" }, " unread")),
        );
      }),
    );
    if (focused) document.getElementById(focused)?.focus();
    // a chat opened from elsewhere (the overview, a notification) shows its tab in the phone's strip
    if (openId !== this.tabsShown) {
      this.tabsShown = openId;
      const tab = openId === null ? null : document.getElementById(`tab-${openId}`);
      const t = tab?.getBoundingClientRect();
      const box = this.tabs.getBoundingClientRect();
      if (t && (t.left < box.left || t.right > box.right)) this.tabs.scrollLeft += t.left - box.left - 12;
    }
  }

  private onTabKey(e: KeyboardEvent): void {
    const tabs = Array.from(this.tabs.querySelectorAll<HTMLElement>("[role=tab]"));
    const i = tabs.indexOf(document.activeElement as HTMLElement);
    if (i < 0) return;
    let j = i;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") j = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = tabs.length - 1;
    else return;
    e.preventDefault();
    tabs[j].click();
    tabs[j].focus();
  }

  // ---- head and profile ---------------------------------------------------------------------

  private renderHead(c: ChatView, closed: boolean): void {
    const app = this.app;
    const id = c.chat.id;
    const name = visitorName(c.chat);
    const onHold = c.chat.status === "on_hold";
    const busy = app.isBusy(`hold:${id}`) || app.isBusy(`resume:${id}`) || c.ending;
    if (closed) {
      fill(this.head,
        h("div", { class: "who" },
          avatar(name),
          h("div", { class: "who-text" },
            h("h2", null, name),
            h("span", { class: "meta" }, h("span", { class: "chip ended" }, "Chat ended")),
          ),
        ),
        h("div", { class: "chat-actions" },
          h("button", { type: "button", class: "btn", "data-fk": "close-ended", onclick: () => app.closeEnded() }, icon("x", "icon sm"), h("span", null, "Close")),
        ),
      );
      return;
    }
    fill(this.head,
      h("div", { class: "who" },
        avatar(name),
        h("div", { class: "who-text" },
          h("h2", null, name),
          h("span", { class: "meta" }, icon(c.chat.mode === "voice" ? "mic" : "chat", "icon sm"), h("span", null, modeLabel(c.chat.mode))),
        ),
      ),
      h("div", { class: "chat-actions" },
        onHold
          ? h("button", { type: "button", class: "btn", disabled: busy, onclick: () => app.resume(id) }, icon("play", "icon sm"), h("span", null, "Resume"))
          : h("button", { type: "button", class: "btn", disabled: busy, onclick: () => app.hold(id) }, icon("pause", "icon sm"), h("span", null, "Hold")),
        !c.call && c.chat.status === "active" &&
          h("button", { type: "button", class: "btn voice-btn", disabled: c.ending || app.isBusy(`call:${id}`), onclick: () => app.callInvite(id) }, icon("mic", "icon sm"), h("span", { class: "btn-label" }, "Voice chat")),
        h("button", { type: "button", class: "btn subtle-danger", disabled: app.isBusy(`end:${id}`), onclick: () => app.askEnd(id) }, icon("x", "icon sm"), h("span", null, "End chat")),
      ),
    );
  }

  /** The call bar: where the call stands, its duration, Mute and End voice; or what became of
   *  the last call. The text chat goes on beside it. */
  private renderCall(c: ChatView, closed: boolean): void {
    const app = this.app;
    const id = c.chat.id;
    const call = closed ? null : c.call;
    if (!call) {
      const note = closed ? null : c.call_note;
      this.callBar.hidden = !note;
      if (note) fill(this.callBar, h("p", { class: "call-note", role: "status" }, icon("mic", "icon sm"), h("span", null, note)));
      return;
    }
    const name = visitorName(c.chat);
    const onHold = c.chat.status === "on_hold";
    const what =
      call.phase === "inviting" ? `Inviting ${name} to a voice chat…`
      : call.phase === "connecting" ? "Voice chat — connecting…"
      : onHold ? "Voice chat — on hold" : "Voice chat";
    this.callBar.hidden = false;
    fill(this.callBar,
      h("div", { class: "call-state", role: "status" },
        h("span", { class: `call-dot ${call.phase}`, "aria-hidden": "true" }),
        h("span", { class: "call-what" }, what),
        call.connected_at !== null && callClock(call.connected_at),
        call.visitor_muted && h("span", { class: "chip" }, `${name} muted`),
      ),
      h("div", { class: "call-actions" },
        call.phase !== "inviting" &&
          h("button", { type: "button", class: "btn", "aria-pressed": String(call.muted), disabled: onHold, onclick: () => app.callMute(id, !call.muted) },
            icon("mic", "icon sm"), h("span", null, call.muted ? "Unmute" : "Mute")),
        h("button", { type: "button", class: "btn subtle-danger", disabled: app.isBusy(`callend:${id}`), onclick: () => app.callEnd(id) },
          icon("x", "icon sm"), h("span", null, call.phase === "inviting" ? "Cancel" : "End voice")),
      ),
    );
  }

  private maybeFetchProfile(c: ChatView): void {
    const s = this.app.s;
    if (s.profileFetchedFor === c.chat.id) return;
    s.profileFetchedFor = c.chat.id;
    const vid = c.chat.visitor_id;
    const had = s.profiles.get(vid);
    if (!had || had === "error") s.profiles.set(vid, "loading");
    api.visitorProfile(vid).then(
      (p) => {
        s.profiles.set(vid, p);
        this.app.render();
      },
      () => {
        if (s.profiles.get(vid) === "loading") s.profiles.set(vid, "error");
        this.app.render();
      },
    );
    this.app.render();
  }

  private renderProfile(c: ChatView): void {
    const s = this.app.s;
    const p = s.profiles.get(c.chat.visitor_id);
    const name = p && typeof p === "object" ? visitorName(p) : visitorName(c.chat);
    const page = p && typeof p === "object" ? p.current_page : c.chat.page;
    const expanded = s.profileExpanded;
    this.profileToggle.setAttribute("aria-expanded", String(expanded));
    fill(this.profileToggle,
      icon("user", "icon sm"),
      h("span", { class: "profile-summary" }, h("strong", null, "Visitor profile"), mailNote(c, !!s.snap?.mail) ?? h("span", { class: "muted" }, " · ", pageLabel(page))),
      icon("chevronDown", "icon sm chevron"),
    );
    let body: HTMLElement;
    if (p === undefined || p === "loading") {
      body = h("p", { class: "muted" }, "Loading profile…");
    } else if (p === "error") {
      body = h("div", null,
        h("p", { class: "muted" }, "The visitor profile is not available right now."),
        h("button", { type: "button", class: "btn small", onclick: () => { s.profileFetchedFor = null; this.app.render(); } }, "Try again"),
      );
    } else {
      body = profileBody(p, c.chat.id, name);
    }
    this.profile.classList.toggle("expanded", expanded);
    this.panel.classList.toggle("profile-open", expanded);
    fill(this.profileBody, body);
  }

  /** "Send chat transcript" for the open chat (shown only while the server has mail). A chat
   *  that ended on screen no longer comes with snapshots: its form fetches the transcript. */
  private renderMail(c: ChatView, ended: boolean): void {
    const snap = this.app.s.snap!;
    const id = c.chat.id;
    let m = this.mailers.get(id);
    if (!m) {
      m = new TranscriptMailer(id, "live", (t) => this.refreshedEnded(t));
      this.mailers.set(id, m);
    }
    m.update({ mail: snap.mail, me: snap.signed_in?.operator.email ?? null, visitorEmail: c.visitor_email, mails: c.mails, ended });
    if (this.mailSlot.firstChild !== m.el) fill(this.mailSlot, m.el);
    // forget the forms of chats that are gone (what was typed there goes with them)
    for (const [other, form] of this.mailers) {
      if (other !== id && !snap.chats.some((v) => v.chat.id === other)) {
        form.close();
        this.mailers.delete(other);
      }
    }
  }

  /** The ended chat on screen: its transcript fetched again, with its mails' progress. */
  private refreshedEnded(t: Transcript): void {
    const closed = this.app.s.closedChat;
    if (closed && closed.view.chat.id === t.chat.id) {
      closed.view.mails = t.mails;
      closed.view.visitor_email = closed.view.visitor_email ?? t.visitor_email;
      this.app.render();
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  private renderLog(c: ChatView): void {
    const me = this.app.s.snap!.signed_in!.operator.id;
    const key = c.chat.id + "|" + c.messages.map((m) => `${m.seq ?? "p"}${m.pending ? "p" : ""}:${m.text.length}`).join(",");
    if (key === this.logKey) return;
    const switched = this.logChat !== c.chat.id;
    const log = this.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const lastMine = c.messages.length > 0 && c.messages[c.messages.length - 1].author.kind === "operator";
    this.logKey = key;
    this.logChat = c.chat.id;
    log.setAttribute("aria-label", `Messages with ${visitorName(c.chat)}`);
    fill(log,
      c.messages.length === 0
        ? h("p", { class: "log-empty" }, `${visitorName(c.chat)} is connected. Say hello!`)
        : c.messages.map((m) => message(m, me)),
    );
    if (switched || atBottom || lastMine) log.scrollTop = log.scrollHeight;
  }

  // ---- composer -----------------------------------------------------------------------------

  private saveDraft(): void {
    if (this.composerChat !== null) this.app.s.drafts.set(this.composerChat, this.input.value);
  }

  /** Shows chat `id`'s draft in the message input when the open chat changed (what was typed
   *  for the chat before stays with that chat: here and, through the core, across restarts). */
  private syncComposer(id: number, kept: string): void {
    if (this.composerChat !== id) {
      this.saveDraft();
      this.composerChat = id;
      this.input.value = this.app.s.drafts.get(id) ?? kept;
      this.onInput();
    }
  }

  /** Keeps the draft in the core a moment after the last key (not on every key). */
  private keepDraft(id: number, text: string): void {
    window.clearTimeout(this.draftTimers.get(id));
    this.draftTimers.set(id, window.setTimeout(() => {
      this.draftTimers.delete(id);
      void api.setDraft(id, text).catch(() => undefined);
    }, 400));
  }

  private onInput(): void {
    const el = this.input;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 140) + "px";
    const n = charCount(el.value);
    const over = n > MAX_MESSAGE_CHARS;
    this.counter.hidden = n < MAX_MESSAGE_CHARS - 200;
    this.counter.textContent = `${n} / ${MAX_MESSAGE_CHARS}`;
    this.counter.classList.toggle("over", over);
    this.sendBtn.disabled = over || el.value.trim() === "";
    if (this.composerChat !== null && this.app.s.drafts.get(this.composerChat) !== el.value) {
      this.app.s.drafts.set(this.composerChat, el.value);
      this.keepDraft(this.composerChat, el.value);
    }
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void this.submit();
    }
  }

  private async submit(): Promise<void> {
    const id = this.composerChat;
    const text = this.input.value;
    if (id === null || this.input.disabled || !text.trim() || charCount(text) > MAX_MESSAGE_CHARS) return;
    this.input.value = "";
    this.onInput();
    this.input.focus();
    const ok = await this.app.send(id, text);
    if (!ok && this.composerChat === id && this.input.value === "") {
      this.input.value = text;
      this.onInput();
    }
  }

  private maybeMarkRead(c: ChatView): void {
    const s = this.app.s;
    if (c.unread === 0 || document.visibilityState !== "visible" || s.section !== "live") return;
    if (s.markedAt.get(c.chat.id) === c.messages.length) return;
    s.markedAt.set(c.chat.id, c.messages.length);
    api.markRead(c.chat.id).catch(() => s.markedAt.delete(c.chat.id));
  }
}

function message(m: MessageView, me: number): HTMLElement {
  const a = m.author;
  if (a.kind === "system") {
    return h("div", { class: "msg system" }, h("span", { class: "bubble" }, m.text));
  }
  const mine = a.kind === "operator" && a.id === me;
  const who = a.kind === "visitor" ? "visitor" : mine ? "me" : "colleague";
  return h("div", { class: `msg ${who}${m.pending ? " pending" : ""}` },
    // textContent only: whatever anyone typed shows literally
    h("div", { class: "bubble" }, m.text),
    h("div", { class: "msg-meta" },
      a.kind === "operator" && !mine && `${a.name} · `,
      h("time", { datetime: new Date(m.at).toISOString() }, clock(m.at)),
      m.pending && h("span", { class: "sending" }, " · Sending…"),
    ),
  );
}

function profileBody(p: VisitorProfile, chatId: number, name: string): HTMLElement {
  const earlier = p.chats.filter((c) => c.id !== chatId);
  const pages = p.pages.slice(0, 10);
  return h("div", null,
    h("dl", { class: "facts" },
      h("div", { class: "wide" }, h("dt", null, "Name"), h("dd", null, name)),
      h("div", { class: "wide" }, h("dt", null, "Current page"), h("dd", null, p.current_page ? [pageLabel(p.current_page), h("small", null, shortUrl(p.current_page.url))] : "Unknown")),
      h("div", null, h("dt", null, "Visits"), h("dd", null, String(p.visits))),
      h("div", null, h("dt", null, "First seen"), h("dd", null, dateTime(p.first_seen))),
    ),
    h("h3", null, "Pages seen"),
    pages.length
      ? h("ol", { class: "pages", "aria-label": "Pages seen" },
          pages.map((v) => h("li", null, h("span", { class: "page-name" }, pageLabel(v.page)), h("time", null, clock(v.at)))),
          p.pages.length > pages.length && h("li", { class: "muted" }, `and ${p.pages.length - pages.length} more`))
      : h("p", { class: "muted" }, "No pages recorded."),
    h("h3", null, "Earlier chats"),
    earlier.length
      ? h("ul", { class: "history", "aria-label": "Earlier chats" },
          earlier.map((c) => h("li", null,
            h("span", null, dateTime(c.created_at)),
            h("span", { class: "muted" }, ` · ${statusLabel(c.status)}${c.operator ? " · " + c.operator.name : ""}`))))
      : h("p", { class: "muted" }, "First chat with this visitor."),
  );
}

/** The drawer is closed on phones and tablets: its toggle says when the latest transcript mailed
 *  from the chat is on its way or was not sent (the form in the drawer says more). */
function mailNote(c: ChatView, mail: boolean): HTMLElement | null {
  if (!mail || c.mails.length === 0) return null;
  const latest = c.mails.reduce((a, m) => (m.mail_id > a.mail_id ? m : a));
  if (latest.state === "sent") return null;
  return h("span", { class: `mail-note ${latest.state}` }, " · ", latest.state === "queued" ? "Sending transcript…" : "Transcript not sent");
}

function statusLabel(s: string): string {
  switch (s) {
    case "ended": return "Ended";
    case "missed": return "Missed";
    case "on_hold": return "On hold";
    case "queued": return "Queued";
    case "waiting": return "Waiting";
    default: return "Active";
  }
}
