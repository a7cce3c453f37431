// The sign-in screen. Built once so typing is never interrupted by a render.
import { api, errorMessage } from "./api";
import type { Controller } from "./controller";
import { h, icon } from "./dom";

const SERVER_KEY = "switchboard.server";
export const DEFAULT_SERVER = "http://127.0.0.1:8080";

export class SignIn {
  readonly el: HTMLElement;
  private server: HTMLInputElement;
  private email: HTMLInputElement;
  private password: HTMLInputElement;
  private error: HTMLElement;
  private submit: HTMLButtonElement;

  constructor(private app: Pick<Controller, "s" | "apply">) {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(SERVER_KEY);
    } catch {
      // storage may be unavailable
    }
    this.server = h("input", { id: "signin-server", name: "server", type: "url", inputmode: "url", autocomplete: "url", spellcheck: "false", autocapitalize: "off", required: true, value: saved || DEFAULT_SERVER });
    this.email = h("input", { id: "signin-email", name: "email", type: "email", autocomplete: "username", autocapitalize: "off", spellcheck: "false", required: true });
    this.password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.submit = h("button", { type: "submit", class: "btn primary block" }, "Sign in");
    const form = h("form", { class: "signin-form", novalidate: true, onsubmit: (e: Event) => this.onSubmit(e) },
      field("signin-server", "Server", this.server),
      field("signin-email", "E-mail", this.email),
      field("signin-password", "Password", this.password),
      this.error,
      this.submit,
    );
    this.el = h("main", { class: "signin", hidden: true },
      h("div", { class: "signin-card" },
        h("div", { class: "signin-logo", "aria-hidden": "true" }, icon("chat")),
        h("h1", null, "Switchboard"),
        h("p", { class: "muted" }, "Sign in to answer your website's visitors."),
        form,
      ),
    );
  }

  render(): void {
    const s = this.app.s;
    this.submit.disabled = s.signingIn;
    this.submit.textContent = s.signingIn ? "Signing in…" : "Sign in";
    this.error.hidden = !s.signInError;
    this.error.textContent = s.signInError ?? "";
  }

  private async onSubmit(e: Event): Promise<void> {
    e.preventDefault();
    const s = this.app.s;
    if (s.signingIn) return;
    const server = this.server.value.trim();
    const email = this.email.value.trim();
    const password = this.password.value;
    const missing = !server ? this.server : !email ? this.email : !password ? this.password : null;
    if (missing) {
      s.signInError = !server ? "Enter the server address." : !email ? "Enter your e-mail." : "Enter your password.";
      this.render();
      missing.focus();
      return;
    }
    s.signingIn = true;
    s.signInError = null;
    this.render();
    try {
      const snap = await api.signIn(server, email, password);
      try {
        localStorage.setItem(SERVER_KEY, server);
      } catch {
        // fine
      }
      this.password.value = "";
      s.signingIn = false;
      this.app.apply(snap);
    } catch (err) {
      s.signingIn = false;
      s.signInError = errorMessage(err);
      this.render();
      this.password.select();
    }
  }
}

function field(id: string, label: string, input: HTMLElement): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}
