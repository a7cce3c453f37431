import assert from "node:assert/strict";
import { test } from "node:test";
import { linkify, type Segment } from "../src/linkify";

const link = (text: string, href = text): Segment => ({ kind: "link", text, href });
const text = (t: string): Segment => ({ kind: "text", text: t });

test("plain text stays one text segment", () => {
  assert.deepEqual(linkify("hello there"), [text("hello there")]);
  assert.deepEqual(linkify(""), []);
});

test("http and https URLs become links", () => {
  assert.deepEqual(linkify("https://a.test/x?y=1#z"), [link("https://a.test/x?y=1#z")]);
  assert.deepEqual(linkify("go to http://a.test now"), [
    text("go to "),
    link("http://a.test"),
    text(" now"),
  ]);
});

test("www. addresses get an https href", () => {
  assert.deepEqual(linkify("see www.acme.test/bikes"), [
    text("see "),
    link("www.acme.test/bikes", "https://www.acme.test/bikes"),
  ]);
});

test("trailing punctuation is not part of the URL", () => {
  assert.deepEqual(linkify("see https://a.test/x."), [text("see "), link("https://a.test/x"), text(".")]);
  assert.deepEqual(linkify("https://a.test/x, and https://b.test!"), [
    link("https://a.test/x"),
    text(", and "),
    link("https://b.test"),
    text("!"),
  ]);
  assert.deepEqual(linkify("Really? https://a.test/?q=1?"), [
    text("Really? "),
    link("https://a.test/?q=1"),
    text("?"),
  ]);
});

test("brackets: balanced ones stay, a closing one after the URL goes", () => {
  assert.deepEqual(linkify("(see https://a.test/x)"), [text("(see "), link("https://a.test/x"), text(")")]);
  assert.deepEqual(linkify("https://en.wiki.test/Bike_(disambiguation)"), [
    link("https://en.wiki.test/Bike_(disambiguation)"),
  ]);
  assert.deepEqual(linkify("<https://a.test/>"), [text("<"), link("https://a.test/"), text(">")]);
});

test("e-mail addresses become mailto links", () => {
  assert.deepEqual(linkify("write to help@acme-bikes.test."), [
    text("write to "),
    link("help@acme-bikes.test", "mailto:help@acme-bikes.test"),
    text("."),
  ]);
  assert.deepEqual(linkify("ann.lee+shop@mail.example.org"), [
    link("ann.lee+shop@mail.example.org", "mailto:ann.lee+shop@mail.example.org"),
  ]);
});

test("javascript: and other schemes are never linked", () => {
  assert.deepEqual(linkify("javascript:alert(1)"), [text("javascript:alert(1)")]);
  assert.deepEqual(linkify("JavaScript:alert(document.cookie)"), [text("JavaScript:alert(document.cookie)")]);
  assert.deepEqual(linkify("data:text/html,<b>x</b>"), [text("data:text/html,<b>x</b>")]);
  assert.deepEqual(linkify("ftp://a.test/file"), [text("ftp://a.test/file")]);
  for (const seg of linkify("javascript:alert('https://a.test') x@y.test www.z.test")) {
    if (seg.kind === "link") assert.match(seg.href!, /^(https?:\/\/|mailto:)/);
  }
});

test("incomplete things are text", () => {
  assert.deepEqual(linkify("https:// is a scheme"), [text("https:// is a scheme")]);
  assert.deepEqual(linkify("https://."), [text("https://.")]);
  assert.deepEqual(linkify("user@localhost and @name"), [text("user@localhost and @name")]);
  assert.deepEqual(linkify("www. is not a site"), [text("www. is not a site")]);
});

test("mixed text keeps every character in order", () => {
  const input = "Hi! Docs: https://a.test/docs, mail bob@b.test or www.c.test; <script>alert(1)</script>";
  const segs = linkify(input);
  assert.equal(segs.map((s) => s.text).join(""), input);
  assert.deepEqual(
    segs.filter((s) => s.kind === "link").map((s) => s.href),
    ["https://a.test/docs", "mailto:bob@b.test", "https://www.c.test"],
  );
});

test("HTML in messages is only text", () => {
  for (const input of ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;b&gt; & \"quotes\""]) {
    assert.deepEqual(linkify(input), [text(input)]);
  }
  // A URL next to markup stops at the markup.
  assert.deepEqual(linkify('<a href="https://evil.test">x</a>'), [
    text('<a href="'),
    link("https://evil.test"),
    text('">x</a>'),
  ]);
});
