"""One slixmpp login over STARTTLS (issue #14: SCRAM -PLUS), through slixmpp's own APIs only.

Run by test/integration/scram-plus.test.ts with Debian's /usr/bin/python3 and python3-slixmpp.
Input: one JSON argument {"jid": "user@host/resource", "password": "...", "port": <c2s port>,
"timeout": <seconds>}. The server certificate is self-signed, so it is not verified.
Output on stdout: one JSON line {"ok": <session started>, "mechanism": <SASL mechanism that
succeeded, or null>, "failures": [<SASL failure conditions, in order>], "binding": <the
channel binding data slixmpp would send, base64, or null>}.
slixmpp (1.8.x) binds only with tls-unique, which CPython's ssl module offers; it picks a
-PLUS mechanism whenever offered, and after a failure tries the next mechanism offered.
"""

import asyncio
import base64
import json
import ssl
import sys

import slixmpp

CFG = json.loads(sys.argv[1])


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(CFG["jid"], CFG["password"])
        self.failures = []
        self.mechanism = None
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("failed_auth", lambda st: self.failures.append(st["condition"]))
        self.add_event_handler("auth_success", self.on_success)
        self.add_event_handler("session_start", lambda _: self.started.done() or self.started.set_result(True))
        self.add_event_handler("disconnected", lambda _: self.started.done() or self.started.set_result(False))

    def on_success(self, _):
        self.mechanism = self.plugin["feature_mechanisms"].mech.name


async def main():
    c = Client()
    c.ssl_context.check_hostname = False
    c.ssl_context.verify_mode = ssl.CERT_NONE
    c.connect(("127.0.0.1", CFG["port"]), force_starttls=True, disable_starttls=False)
    try:
        ok = await asyncio.wait_for(c.started, CFG["timeout"])
    except asyncio.TimeoutError:
        ok = False
    binding = None
    sock = c.socket
    if isinstance(sock, (ssl.SSLSocket, ssl.SSLObject)):
        data = sock.get_channel_binding()
        binding = base64.b64encode(data).decode() if data else None
    print(json.dumps({"ok": ok, "mechanism": c.mechanism, "failures": c.failures, "binding": binding}), flush=True)
    c.disconnect()


asyncio.run(main())
