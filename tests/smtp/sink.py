"""A real SMTP server for the mail tests (aiosmtpd), on loopback.

Each message it accepts is written to DIR as msg-<n>.json: the envelope, the decoded headers,
the text and HTML parts and the raw message, so the Rust tests read them without a MIME parser.

    python3 sink.py --port P --dir DIR [--cert C --key K [--implicit-tls]] [--auth USER:PASS]

With --cert and --key it offers STARTTLS (and requires it before AUTH and mail); with
--implicit-tls it speaks TLS from the first byte instead. With --auth it requires AUTH
PLAIN/LOGIN with those credentials.

What it answers can be steered, as a real server's moods:
- a recipient whose local part is `refuse` is refused with 550 at RCPT (permanent);
- a recipient whose local part is `later` is deferred with 451 at RCPT (temporary);
- the file DIR/mode holding `defer` defers every DATA with 451; `hold` keeps every DATA
  waiting for its answer until the file says something else: a client that goes away
  meanwhile never gets the 250, and its message is not kept (written to DIR/aborted-<n>.json).

It prints `ready <port>` once it listens.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

counter = itertools.count(1)


def mode(folder):
    try:
        with open(os.path.join(folder, "mode")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def write(folder, prefix, envelope):
    raw = envelope.original_content or envelope.content
    if isinstance(raw, str):
        raw = raw.encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    record = {
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "headers": {k.lower(): str(v) for k, v in msg.items()},
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "raw": raw.decode("utf-8", "replace"),
    }
    n = next(counter)
    path = os.path.join(folder, f"{prefix}-{n:05d}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.rename(path + ".tmp", path)


class Handler:
    def __init__(self, folder):
        self.folder = folder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "refuse":
            return "550 5.1.1 No such user here"
        if local == "later":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if mode(self.folder) == "defer":
            return "451 4.3.0 Deferred by the test"
        transport = server.transport
        if mode(self.folder) == "hold":
            open(os.path.join(self.folder, "holding"), "w").close()
        try:
            while mode(self.folder) == "hold":
                if transport is None or transport.is_closing():
                    write(self.folder, "aborted", envelope)
                    return "451 4.3.0 gone"
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            # the client went away: aiosmtpd cancels the session
            write(self.folder, "aborted", envelope)
            raise
        if transport is None or transport.is_closing():
            write(self.folder, "aborted", envelope)
            return "451 4.3.0 gone"
        write(self.folder, "msg", envelope)
        return "250 2.0.0 Ok: queued by the test sink"


def main():
    # The tests use AUTH without TLS on purpose (a local relay); aiosmtpd would warn each time.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth")
    a = p.parse_args()

    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.implicit_tls:
            kwargs["ssl_context"] = ctx
        else:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            # handled=False: aiosmtpd answers the failure with 535 itself (it stays silent
            # otherwise).
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # aiosmtpd counts only STARTTLS as TLS; with implicit TLS every byte is encrypted.
        kwargs["auth_require_tls"] = bool(a.cert) and not a.implicit_tls
    else:
        # Without credentials the server takes mail from anyone (a local relay).
        kwargs["auth_require_tls"] = False

    controller = Controller(
        Handler(a.dir), hostname="127.0.0.1", port=a.port, server_hostname="localhost", **kwargs
    )
    controller.start()
    print(f"ready {a.port}", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
