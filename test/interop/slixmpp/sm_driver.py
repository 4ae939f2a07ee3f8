"""Drives XEP-0198 stream management resumption with slixmpp's own xep_0198 plugin (issue #13).

Run by test/integration/slixmpp-sm.test.ts with Debian's /usr/bin/python3 and python3-slixmpp.
Only slixmpp's APIs: ClientXMPP with xep_0198, `abort()` to drop the TCP connection without
`</stream>` (a network loss), `end_session_on_disconnect = False` so that the plugin keeps
its SM-ID, and `connect()` again, after which the plugin resumes on its own.

Input: one JSON argument {"domain", "port", "password", "users": {"alice", "bob"}, "timeout"}.
Output on stdout: one JSON object per line, {"step": <name>, ...} or {"step": <name>,
"error": <text>}; the last line is {"step": "done"}. Every wait is bounded by `timeout`.
"""

import asyncio
import json
import sys
import traceback

import slixmpp

CFG = json.loads(sys.argv[1])
DOMAIN = CFG["domain"]
PORT = CFG["port"]
PASSWORD = CFG["password"]
T = float(CFG["timeout"])
ALICE = f'{CFG["users"]["alice"]}@{DOMAIN}/phone'
BOB = f'{CFG["users"]["bob"]}@{DOMAIN}/pc'


def emit(step, **data):
    print(json.dumps({"step": step, **data}), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, sm):
        super().__init__(jid, PASSWORD)
        if sm:
            self.register_plugin("xep_0198")
        self.bodies = []
        self.seen = set()  # events that happened, in any order
        self.add_event_handler("message", lambda m: self.bodies.append(str(m["body"])))
        for name in ("session_start", "sm_enabled", "session_resumed", "sm_failed"):
            self.add_event_handler(name, (lambda n: lambda _e: self.seen.add(n))(name))

    async def wait_event(self, name):
        async def loop():
            while name not in self.seen:
                if "sm_failed" in self.seen:
                    raise RuntimeError(f"sm_failed while waiting for {name}")
                await asyncio.sleep(0.05)
        await asyncio.wait_for(loop(), T)

    async def wait_bodies(self, wanted):
        async def loop():
            while not all(b in self.bodies for b in wanted):
                await asyncio.sleep(0.05)
        await asyncio.wait_for(loop(), T)


async def main():
    alice = Client(ALICE, sm=True)
    bob = Client(BOB, sm=False)
    # Keep the SM-ID over a lost connection (slixmpp forgets it on session_end otherwise).
    alice.end_session_on_disconnect = False
    try:
        for c in (alice, bob):
            c.connect(("127.0.0.1", PORT))
        await alice.wait_event("sm_enabled")
        await alice.wait_event("session_start")
        await bob.wait_event("session_start")
        sm = alice.plugin["xep_0198"]
        emit("enabled", sm_id=bool(sm.sm_id))
        alice.send_presence()
        bob.send_message(mto=ALICE, mbody="s1", mtype="chat")
        await alice.wait_bodies(["s1"])
        # Network loss: the TCP connection goes, no </stream>.
        alice.abort()
        await asyncio.sleep(1.0)
        for body in ("s2", "s3", "s4"):
            bob.send_message(mto=ALICE, mbody=body, mtype="chat")
        await asyncio.sleep(0.5)
        alice.connect(("127.0.0.1", PORT))
        await alice.wait_event("session_resumed")
        await alice.wait_bodies(["s2", "s3", "s4"])
        await asyncio.sleep(1.0)
        # The resumed stream works both ways.
        alice.send_message(mto=BOB, mbody="r1", mtype="chat")
        await bob.wait_bodies(["r1"])
        emit("resumed", bodies=alice.bodies, jid=str(alice.boundjid))
    except Exception as err:  # noqa: BLE001 - reported to the test
        emit("resumed", error=repr(err), trace=traceback.format_exc(), bodies=alice.bodies)
    finally:
        for c in (alice, bob):
            c.disconnect()
        await asyncio.sleep(0.5)
    emit("done")


asyncio.run(main())
