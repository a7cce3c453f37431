// renderText builds message DOM from text nodes and <a> elements only. A tiny stand-in for
// `document` records what is created; innerHTML is a trap that fails the test if touched.
import assert from "node:assert/strict";
import { test } from "node:test";

class FakeNode {
  children: FakeNode[] = [];
  attrs: Record<string, string> = {};
  constructor(
    public tag: string,
    public text = "",
  ) {}
  setAttribute(k: string, v: string) {
    this.attrs[k] = v;
  }
  append(...kids: (FakeNode | string)[]) {
    for (const k of kids) this.children.push(typeof k === "string" ? new FakeNode("#text", k) : k);
  }
  set textContent(t: string) {
    this.children = [new FakeNode("#text", t)];
  }
  get textContent(): string {
    return this.tag === "#text" ? this.text : this.children.map((c) => c.textContent).join("");
  }
  set innerHTML(_: string) {
    throw new Error("innerHTML must not be used");
  }
}

(globalThis as Record<string, unknown>).document = {
  createElement: (tag: string) => new FakeNode(tag),
  createTextNode: (text: string) => new FakeNode("#text", text),
  createDocumentFragment: () => new FakeNode("#fragment"),
};

const { renderText, h } = await import("../src/ui");

function tags(n: FakeNode): string[] {
  return [n.tag, ...n.children.flatMap(tags)];
}

test("markup in a message is text, never elements", () => {
  for (const input of ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a &amp; b <b>bold</b>"]) {
    const frag = renderText(input) as unknown as FakeNode;
    assert.deepEqual(tags(frag), ["#fragment", "#text"]);
    assert.equal(frag.textContent, input);
  }
});

test("links are <a> with a safe href, target and rel", () => {
  const frag = renderText("Docs at https://a.test/x. or mail me@b.test <b>") as unknown as FakeNode;
  assert.equal(frag.textContent, "Docs at https://a.test/x. or mail me@b.test <b>");
  const links = frag.children.filter((c) => c.tag === "a");
  assert.deepEqual(links.map((a) => a.attrs), [
    { href: "https://a.test/x", target: "_blank", rel: "noopener noreferrer" },
    { href: "mailto:me@b.test", target: "_blank", rel: "noopener noreferrer" },
  ]);
  assert.deepEqual(links.map((a) => a.textContent), ["https://a.test/x", "me@b.test"]);
});

test("javascript: URLs stay text", () => {
  const frag = renderText("javascript:alert(1)") as unknown as FakeNode;
  assert.deepEqual(tags(frag), ["#fragment", "#text"]);
});

test("h() puts strings in as text", () => {
  const el = h("p", { class: "m" }, "<i>x</i>") as unknown as FakeNode;
  assert.deepEqual(tags(el), ["p", "#text"]);
  assert.equal(el.textContent, "<i>x</i>");
});
