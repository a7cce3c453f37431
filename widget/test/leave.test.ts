import assert from "node:assert/strict";
import { test } from "node:test";
import { LEAVE_TEXT, checkLeave, isEmail, refusedField, sentence } from "../src/leave";

test("ordinary e-mail addresses are accepted", () => {
  for (const ok of [
    "rita@example.test",
    "ann.lee+shop@mail.example.org",
    "a_b-c@sub-domain.example.co.uk",
    "USER@EXAMPLE.COM",
    "o'brien@example.ie",
    "x@a.io",
  ]) {
    assert.ok(isEmail(ok), ok);
  }
});

test("markup, spaces, a second @ and the like are not e-mail addresses", () => {
  for (const bad of [
    "user@example.com<script>alert(1)</script>",
    "user@example.com<script>",
    "<b>user</b>@example.com",
    'user@example.com"onmouseover="x',
    "user@example.com>",
    "user@example.com/",
    "user@localhost",
    "user@@example.com",
    "user@exa@mple.com",
    "user example@example.com",
    "user@example .com",
    "user@example.com\nBcc: x@y.test",
    "@example.com",
    "user@",
    "user",
    "user@.example.com",
    "user@example..com",
    "user@example.com.",
    "user@-example.com",
    "user@example-.com",
    "user@exa_mple.com",
    '"quoted"@example.com',
    "user@[127.0.0.1]",
    "jürgen@example.com",
    "a@" + "b".repeat(64) + ".com",
    "a".repeat(245) + "@example.com",
    "",
  ]) {
    assert.ok(!isEmail(bad), bad);
  }
});

test("the form says what is wrong with each field", () => {
  assert.deepEqual(checkLeave("", "", ""), {
    name: LEAVE_TEXT.needName,
    email: LEAVE_TEXT.needEmail,
    text: LEAVE_TEXT.needText,
  });
  assert.deepEqual(checkLeave("  Rita ", "user@example.com<script>", "  \n "), {
    email: LEAVE_TEXT.notEmail,
    text: LEAVE_TEXT.needText,
  });
  assert.deepEqual(checkLeave("Rita", " rita@example.test ", "Call me"), {});
  assert.match(checkLeave("R".repeat(101), "r@e.test", "x").name!, /at most 100 characters/);
  assert.match(checkLeave("Rita", "r@e.test", "x".repeat(4001)).text!, /at most 4000 characters/);
  assert.deepEqual(checkLeave("🚲".repeat(100), "r@e.test", "🚲".repeat(4000)), {}, "characters, not UTF-16 units");
});

test("a refusal from the server goes to the field it is about", () => {
  const no = (message: string, code = "invalid_input") => refusedField({ code, message });
  assert.equal(no("that is not an e-mail address"), "email");
  assert.equal(no("e-mail is required"), "email");
  assert.equal(no("e-mail is over 254 characters", "too_large"), "email");
  assert.equal(no("name holds a character that is not allowed (U+FDD0)"), "name");
  assert.equal(no("name is over 100 characters", "too_large"), "name");
  assert.equal(no("message is required"), "text");
  assert.equal(no("message holds a character that is not allowed (U+0007)"), "text");
  // A field the server names wins over the words.
  assert.equal(refusedField({ code: "invalid_input", message: "nope", field: "email" }), "email");
  assert.equal(refusedField({ code: "invalid_input", message: "nope", field: "message" }), "text");
  // About no field: the notice under the form says it.
  assert.equal(no("too many requests", "rate_limited"), null);
  assert.equal(no("name is taken", "internal"), null);
  assert.equal(no("something else"), null);
  assert.equal(refusedField(null), null);
  assert.equal(refusedField("that is not an e-mail address"), null);
});

test("server messages are shown as sentences", () => {
  assert.equal(sentence("that is not an e-mail address"), "That is not an e-mail address.");
  assert.equal(sentence("Already a sentence."), "Already a sentence.");
  assert.equal(sentence(""), "");
});
