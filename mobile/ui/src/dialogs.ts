// The modal dialogs: Incoming chat request, canned messages, end-chat confirmation, account.
import { api, errorMessage } from "./api";
import type { CannedMessage } from "./bindings";
import type { Controller } from "./controller";
import { avatar, fill, h, icon, since } from "./dom";
import { capText, modeLabel, pageLabel, shortUrl, visitorName } from "./format";
import { findChat } from "./state";

/** What the canned messages dialog asks of the app. */
type CannedController = Pick<Controller, "s" | "render" | "insertIntoComposer">;
/** What the dialogs ask of the app. */
type DialogsController = CannedController & Pick<Controller, "accept" | "queue" | "decline" | "laterRequest" | "endChat" | "openCanned" | "signOut">;

function show(d: HTMLDialogElement): void {
  if (!d.open) d.showModal();
}

function hide(d: HTMLDialogElement): void {
  if (d.open) d.close();
}

/** Escape (the dialog's cancel) goes through our state instead of closing behind its back. */
function onCancel(d: HTMLDialogElement, fn: () => void): void {
  d.addEventListener("cancel", (e) => {
    e.preventDefault();
    fn();
  });
}

export class Dialogs {
  private incoming: HTMLDialogElement;
  private incomingFor: string | null = null;
  private confirm: HTMLDialogElement;
  private account: HTMLDialogElement;
  private canned: CannedDialog;

  constructor(private app: DialogsController) {
    this.incoming = h("dialog", { class: "sheet incoming", "aria-label": "Incoming chat request" });
    onCancel(this.incoming, () => app.laterRequest());
    this.confirm = h("dialog", { class: "sheet confirm", role: "alertdialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" });
    onCancel(this.confirm, () => { app.s.confirmEnd = null; app.render(); });
    this.account = h("dialog", { class: "sheet account", "aria-label": "Account" });
    onCancel(this.account, () => { app.s.accountOpen = false; app.render(); });
    this.canned = new CannedDialog(app);
  }

  elements(): HTMLElement[] {
    return [this.canned.el, this.confirm, this.account, this.incoming];
  }

  render(): void {
    const s = this.app.s;
    const signedIn = !!s.snap?.signed_in;
    this.renderAccount(signedIn && s.accountOpen);
    this.canned.render(signedIn);
    this.renderConfirm(signedIn);
    this.renderIncoming(signedIn);
  }

  private renderIncoming(signedIn: boolean): void {
    const s = this.app.s;
    const r = signedIn ? s.snap!.requests.find((x) => x.id === s.dialogRequest) : undefined;
    if (!r) {
      this.incomingFor = null;
      hide(this.incoming);
      return;
    }
    const cap = capText(s.snap!);
    const key = `${r.id}:${cap ?? ""}`;
    if (this.incomingFor !== key) {
      this.incomingFor = key;
      const name = visitorName(r);
      fill(this.incoming,
        h("div", { class: "ring", "aria-hidden": "true" }, icon(r.mode === "voice" ? "mic" : "bell")),
        h("p", { class: "eyebrow" }, "Incoming chat request"),
        // focus lands here, not on Accept, so a keystroke meant for the composer answers nothing
        h("h2", { tabindex: "-1", autofocus: true }, name),
        h("dl", { class: "facts" },
          h("div", null, h("dt", null, "Page"), h("dd", null, pageLabel(r.page), r.page && h("small", null, shortUrl(r.page.url)))),
          h("div", null, h("dt", null, "Mode"), h("dd", null, icon(r.mode === "voice" ? "mic" : "chat", "icon sm"), modeLabel(r.mode))),
          h("div", null, h("dt", null, "Waiting"), h("dd", null, since(r.created_at))),
        ),
        cap && h("p", { class: "cap-note", id: "cap-note-dialog" }, cap),
        h("div", { class: "actions stack" },
          h("button", { type: "button", class: "btn primary big", disabled: !!cap, "aria-describedby": cap ? "cap-note-dialog" : false, onclick: () => void this.app.accept(r.id) }, "Accept"),
          h("div", { class: "actions split" },
            h("button", { type: "button", class: "btn big", onclick: () => this.app.queue(r.id) }, "Queue"),
            h("button", { type: "button", class: "btn big subtle-danger", onclick: () => this.app.decline(r.id) }, "Decline"),
          ),
        ),
      );
    }
    show(this.incoming);
  }

  private renderConfirm(signedIn: boolean): void {
    const s = this.app.s;
    const c = signedIn ? findChat(s, s.confirmEnd) : undefined;
    if (!c) {
      hide(this.confirm);
      return;
    }
    const id = c.chat.id;
    fill(this.confirm,
      h("h2", { id: "confirm-title" }, `End chat with ${visitorName(c.chat)}?`),
      h("p", { id: "confirm-text", class: "muted" }, "The visitor is told that the chat has ended. This cannot be undone."),
      h("div", { class: "actions split" },
        h("button", { type: "button", class: "btn big", autofocus: true, onclick: () => { s.confirmEnd = null; this.app.render(); } }, "Cancel"),
        h("button", { type: "button", class: "btn big danger", onclick: () => void this.app.endChat(id) }, "End chat"),
      ),
    );
    show(this.confirm);
  }

  /** The display-name form, built when the sheet opens and kept while it is open (so what
   *  is typed survives new snapshots). */
  private nameForm: HTMLFormElement | null = null;

  private displayName(current: string): HTMLFormElement {
    if (this.nameForm) return this.nameForm;
    const input = h("input", { id: "display-name", type: "text", value: current, maxlength: 100, autocomplete: "name", "data-fk": "display-name" }) as HTMLInputElement;
    const note = h("p", { class: "muted small", role: "status" });
    const save = h("button", { type: "submit", class: "btn" }, "Save") as HTMLButtonElement;
    const form = h("form", { class: "display-name", "aria-label": "Display name",
      onsubmit: (e: Event) => {
        e.preventDefault();
        save.disabled = true;
        api.setDisplayName(input.value).then(
          () => { note.textContent = "Saved: visitors and colleagues see this name from now on."; },
          (err) => { note.textContent = errorMessage(err); },
        ).finally(() => { save.disabled = false; });
      } },
      h("label", { for: "display-name" }, "Display name"),
      h("div", { class: "invite-row" }, input, save),
      note,
    ) as HTMLFormElement;
    this.nameForm = form;
    return form;
  }

  private renderAccount(open: boolean): void {
    if (!open) {
      this.nameForm = null;
      hide(this.account);
      return;
    }
    const app = this.app;
    const si = app.s.snap!.signed_in!;
    const close = () => { app.s.accountOpen = false; app.render(); };
    fill(this.account,
      h("div", { class: "sheet-head" },
        h("h2", null, "Account"),
        h("button", { type: "button", class: "icon-btn", "aria-label": "Close", onclick: close }, icon("x")),
      ),
      h("div", { class: "account-who" }, avatar(si.operator.name, "avatar lg"),
        h("div", null, h("strong", null, si.operator.name), h("span", { class: "muted" }, si.operator.email))),
      h("dl", { class: "facts" }, h("div", { class: "wide" }, h("dt", null, "Server"), h("dd", null, si.server))),
      this.displayName(si.operator.name),
      h("div", { class: "actions stack" },
        h("button", { type: "button", class: "btn big", onclick: () => { app.s.accountOpen = false; app.openCanned({ kind: "manage" }); } }, icon("canned", "icon sm"), "Canned messages"),
        h("button", { type: "button", class: "btn big subtle-danger", onclick: () => void app.signOut() }, "Sign out"),
      ),
    );
    show(this.account);
  }
}

class CannedDialog {
  readonly el: HTMLDialogElement;
  private back: HTMLButtonElement;
  private title: HTMLElement;
  private pickView: HTMLElement;
  private search: HTMLInputElement;
  private pickList: HTMLElement;
  private manageView: HTMLElement;
  private manageList: HTMLElement;
  private editView: HTMLFormElement;
  private titleInput: HTMLInputElement;
  private textInput: HTMLTextAreaElement;
  private editError: HTMLElement;
  private deleteBtn: HTMLButtonElement;
  private saveBtn: HTMLButtonElement;
  private editing: string | null = null;
  private busy = false;

  constructor(private app: CannedController) {
    const s = app.s;
    this.back = h("button", { type: "button", class: "icon-btn", "aria-label": "Back", onclick: () => this.goBack() }, icon("back"));
    this.title = h("h2", { id: "canned-title" }, "Canned messages");
    this.search = h("input", { type: "search", class: "search", "aria-label": "Search canned messages", placeholder: "Search canned messages",
      oninput: () => { s.cannedSearch = this.search.value; app.render(); } });
    this.pickList = h("ul", { class: "canned-list", "aria-label": "Canned messages list" });
    this.pickView = h("div", { class: "canned-view" },
      h("div", { class: "search-wrap" }, icon("search", "icon sm"), this.search),
      this.pickList,
      h("div", { class: "sheet-foot" },
        h("button", { type: "button", class: "btn", onclick: () => { s.canned = { kind: "manage" }; app.render(); } }, icon("edit", "icon sm"), "Manage"),
      ),
    );
    this.manageList = h("ul", { class: "canned-list", "aria-label": "Manage canned messages" });
    this.manageView = h("div", { class: "canned-view" },
      h("button", { type: "button", class: "btn primary block", onclick: () => { s.canned = { kind: "edit", id: null }; app.render(); } }, icon("plus", "icon sm"), "New canned message"),
      this.manageList,
    );
    this.titleInput = h("input", { id: "canned-edit-title", type: "text", maxlength: "120", required: true });
    this.textInput = h("textarea", { id: "canned-edit-text", rows: 6, required: true });
    this.editError = h("p", { class: "form-error", role: "alert", hidden: true });
    this.saveBtn = h("button", { type: "submit", class: "btn primary" }, "Save");
    this.deleteBtn = h("button", { type: "button", class: "btn subtle-danger", onclick: () => void this.remove() }, "Delete");
    this.editView = h("form", { class: "canned-view edit", novalidate: true, onsubmit: (e: Event) => { e.preventDefault(); void this.save(); } },
      h("div", { class: "field" }, h("label", { for: "canned-edit-title" }, "Title"), this.titleInput),
      h("div", { class: "field" }, h("label", { for: "canned-edit-text" }, "Text"), this.textInput),
      this.editError,
      h("div", { class: "actions split" }, this.deleteBtn, this.saveBtn),
    );
    this.el = h("dialog", { class: "sheet canned", "aria-label": "Canned messages" },
      h("div", { class: "sheet-head" }, this.back, this.title,
        h("button", { type: "button", class: "icon-btn", "aria-label": "Close", onclick: () => this.close() }, icon("x"))),
      this.pickView, this.manageView, this.editView,
    );
    onCancel(this.el, () => this.close());
  }

  private close(): void {
    this.app.s.canned = null;
    this.app.render();
  }

  private goBack(): void {
    const s = this.app.s;
    s.canned = s.canned?.kind === "edit" ? { kind: "manage" } : { kind: "pick" };
    this.app.render();
  }

  render(signedIn: boolean): void {
    const s = this.app.s;
    const view = signedIn ? s.canned : null;
    if (!view) {
      this.editing = null;
      hide(this.el);
      return;
    }
    const all = s.snap!.canned;
    this.pickView.hidden = view.kind !== "pick";
    this.manageView.hidden = view.kind !== "manage";
    this.editView.hidden = view.kind !== "edit";
    this.back.hidden = view.kind === "pick";
    const wasOpen = this.el.open;

    if (view.kind === "pick") {
      this.title.textContent = "Canned messages";
      if (this.search.value !== s.cannedSearch) this.search.value = s.cannedSearch;
      const q = s.cannedSearch.trim().toLowerCase();
      const found = all.filter((c) => !q || c.title.toLowerCase().includes(q) || c.text.toLowerCase().includes(q));
      fill(this.pickList,
        found.length
          ? found.map((c) => h("li", null,
              h("button", { type: "button", class: "canned-item", onclick: () => this.pick(c) },
                h("strong", null, c.title), h("span", { class: "canned-text" }, c.text))))
          : h("li", { class: "empty" }, all.length ? "No canned message matches." : "No canned messages yet. Use Manage to create some."),
      );
      this.editing = null;
    } else if (view.kind === "manage") {
      this.title.textContent = "Manage canned messages";
      fill(this.manageList,
        all.length
          ? all.map((c) => h("li", { class: "manage-item" },
              h("span", { class: "manage-main" }, h("strong", null, c.title), h("span", { class: "canned-text" }, c.text)),
              h("button", { type: "button", class: "btn small", "aria-label": `Edit ${c.title}`, onclick: () => { s.canned = { kind: "edit", id: c.id }; this.app.render(); } }, "Edit")))
          : h("li", { class: "empty" }, "No canned messages yet."),
      );
      this.editing = null;
    } else {
      const key = String(view.id);
      const item = view.id === null ? undefined : all.find((c) => c.id === view.id);
      this.title.textContent = view.id === null ? "New canned message" : "Edit canned message";
      if (this.editing !== key) {
        this.editing = key;
        this.titleInput.value = item?.title ?? "";
        this.textInput.value = item?.text ?? "";
        this.editError.hidden = true;
        queueMicrotask(() => this.titleInput.focus());
      }
      this.deleteBtn.hidden = view.id === null;
      this.saveBtn.disabled = this.busy;
      this.deleteBtn.disabled = this.busy;
    }
    show(this.el);
    if (!wasOpen && view.kind === "pick") this.search.focus();
  }

  private pick(c: CannedMessage): void {
    this.app.s.canned = null;
    this.app.render();
    this.app.insertIntoComposer(c.text);
  }

  private async save(): Promise<void> {
    const s = this.app.s;
    const view = s.canned;
    if (view?.kind !== "edit" || this.busy) return;
    const title = this.titleInput.value.trim();
    const text = this.textInput.value;
    if (!title || !text.trim()) {
      this.fail(!title ? "Enter a title." : "Enter the text.");
      return;
    }
    await this.guard(async () => {
      await api.saveCanned(view.id, title, text);
      s.canned = { kind: "manage" };
    });
  }

  private async remove(): Promise<void> {
    const s = this.app.s;
    const view = s.canned;
    if (view?.kind !== "edit" || view.id === null || this.busy) return;
    const id = view.id;
    await this.guard(async () => {
      await api.deleteCanned(id);
      s.canned = { kind: "manage" };
    });
  }

  private async guard(fn: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.app.render();
    try {
      await fn();
    } catch (e) {
      this.fail(errorMessage(e));
    } finally {
      this.busy = false;
      this.app.render();
    }
  }

  private fail(msg: string): void {
    this.editError.textContent = msg;
    this.editError.hidden = false;
  }
}
