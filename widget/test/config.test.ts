import assert from "node:assert/strict";
import { test } from "node:test";
import { charCount, offlineMessagesUrl, serverBase, wsUrl } from "../src/config";

test("the server is the origin of the script's src", () => {
  assert.equal(serverBase("https://help.acme.test/widget.js", null, "https://shop.test/p"), "https://help.acme.test");
  assert.equal(serverBase("/widget.js", null, "http://127.0.0.1:8080/page"), "http://127.0.0.1:8080");
});

test("data-server overrides the script's src", () => {
  assert.equal(serverBase("https://cdn.test/widget.js", "https://chat.acme.test:8443/x", "https://shop.test/"), "https://chat.acme.test:8443");
  assert.equal(serverBase("https://cdn.test/widget.js", "  ", "https://shop.test/"), "https://cdn.test");
  assert.equal(serverBase("https://cdn.test/widget.js", "javascript:alert(1)", "https://shop.test/"), "https://cdn.test");
  assert.equal(serverBase(null, null, "https://shop.test/a/b"), "https://shop.test");
});

test("WebSocket and HTTP URLs", () => {
  assert.equal(wsUrl("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/api/widget/ws");
  assert.equal(wsUrl("https://help.acme.test"), "wss://help.acme.test/api/widget/ws");
  assert.equal(offlineMessagesUrl("https://help.acme.test"), "https://help.acme.test/api/widget/offline-messages");
});

test("message length counts characters, not UTF-16 units", () => {
  assert.equal(charCount("abc"), 3);
  assert.equal(charCount("🚲🚲"), 2);
  assert.equal(charCount("é"), 1);
});
