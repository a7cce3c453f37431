// A chat's transcript as lines: messages as bubbles, every other event (accepted, hold, queued,
// calls, who ended it, an invitation) as a line of its own. Shared by History and the Visitors
// List's profile; a leaf like dom and format (it takes no Controller).
import type { ChatEvent, ChatSummary, EndReason, Transcript } from "./bindings";
import { h } from "./dom";
import { clock, visitorName } from "./format";

/** The transcript's lines: messages as bubbles, everything else as a line of its own. */
export function transcriptLines(t: Transcript): HTMLElement[] {
  const lines: HTMLElement[] = [];
  for (const e of t.events) {
    const line = eventLine(e, t.chat);
    if (line) lines.push(line);
  }
  return lines.length ? lines : [h("p", { class: "log-empty" }, "Nothing was said in this chat.")];
}

function eventLine(e: ChatEvent, chat: ChatSummary): HTMLElement | null {
  const k = e.kind;
  const at = h("time", { datetime: new Date(e.at).toISOString() }, clock(e.at));
  const system = (text: string) => h("div", { class: "msg system" }, h("span", { class: "bubble" }, text, " · ", at));
  switch (k.type) {
    case "message": {
      const who = k.author.kind === "visitor" ? "visitor" : k.author.kind === "system" ? "system" : "colleague";
      if (who === "system") return system(k.text);
      return h("div", { class: `msg ${who}` },
        h("div", { class: "bubble" }, k.text),
        h("div", { class: "msg-meta" }, k.author.kind === "operator" ? `${k.author.name} · ` : `${visitorName(chat)} · `, at),
      );
    }
    case "invited":
      return system(`${k.operator.name} invited the visitor: ${k.text}`);
    case "requested":
      return system(`${visitorName(chat)} asked for a ${k.mode === "voice" ? "voice" : "text"} chat`);
    case "accepted":
      return system(`${k.operator.name} accepted the chat`);
    case "queued":
      return system(`${k.operator.name} put the chat in the Communication Queue`);
    case "on_hold":
      return system(`${k.operator.name} put the chat on hold`);
    case "resumed":
      return system(`${k.operator.name} resumed the chat`);
    case "ended":
      return system(endedBy(k.reason, chat));
    case "call_started":
      return system("Voice call started");
    case "call_ended":
      return system("Voice call ended");
    default:
      return null;
  }
}

function endedBy(reason: EndReason, chat: ChatSummary): string {
  switch (reason) {
    case "visitor":
      return `${visitorName(chat)} ended the chat`;
    case "operator":
      return `${chat.operator?.name ?? "The operator"} ended the chat`;
    case "no_operator":
      return "No operator answered";
    case "declined":
      return `${visitorName(chat)} declined the invitation`;
  }
}
