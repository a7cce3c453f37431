// What a screen may ask of the app. The views get the app as a `Controller` (each names the few
// members it uses with `Pick`), so they never import app.ts: the app knows the views, not the
// other way round. A view changes only its own parts of the state (drafts, search text, which
// dialog is open) and then calls `render()`; everything that reaches the core goes through here
// or through api.ts.
import type { UiSnapshot } from "./bindings";
import type { CannedView, Section, State } from "./state";

export interface Controller {
  /** The latest snapshot plus what is local to this window. */
  readonly s: State;
  /** Schedules one render of the whole app (several calls in a row render once). */
  render(): void;
  /** Takes a snapshot the core returned (sign in). */
  apply(snap: UiSnapshot): void;
  /** Whether the command with this key ("accept:12") is running, to disable its button. */
  isBusy(key: string): boolean;
  /** Shows a section, and with `chatId` that chat's Live Communication tab. */
  go(section: Section, chatId?: number): void;
  /** Makes `chatId` the open Live Communication tab (the caller renders). */
  openChat(chatId: number): void;

  // Chat requests: each answers the request and moves the Incoming chat request dialog on.
  /** Accepts a request or takes a queued chat, then opens its tab. */
  accept(chatId: number): Promise<void>;
  decline(chatId: number): void;
  queue(chatId: number): void;
  /** Closes the Incoming chat request dialog without answering. */
  laterRequest(): void;

  // Own chats.
  hold(chatId: number): void;
  resume(chatId: number): void;
  /** Asks for confirmation before ending a chat. */
  askEnd(chatId: number): void;
  endChat(chatId: number): Promise<void>;
  /** Resolves to false when the message could not be sent (the composer gives the text back). */
  send(chatId: number, text: string): Promise<boolean>;
  /** Puts a canned message's text into the open chat's message input (it is not sent). */
  insertIntoComposer(text: string): void;

  /** Voice: invite the visitor to talk, end the call (the chat goes on), mute or unmute. */
  callInvite(chatId: number): void;
  callEnd(chatId: number): void;
  callMute(chatId: number, muted: boolean): void;
  /** Closes the ended chat left on screen in Live Communication. */
  closeEnded(): void;
  /** Tries an action the server refused again, or forgets it. */
  retryRefused(id: number): void;
  dismissRefused(id: number): void;

  openCanned(view?: CannedView): void;
  signOut(): Promise<void>;
  /** Fetches the offline messages for Reports (again); once shown, they are marked seen. */
  loadOfflineMessages(): void;
}
