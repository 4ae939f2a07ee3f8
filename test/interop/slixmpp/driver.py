"""Drives parley with slixmpp, a client library nobody here wrote (issue #11).

Run by test/integration/slixmpp-interop.test.ts with Debian's /usr/bin/python3 and its
python3-slixmpp package; it only uses slixmpp's own APIs (ClientXMPP, client_roster and the
xep_0030, xep_0054, xep_0191, xep_0199 and xep_0280 plugins; for PEP and CSI (issue #13)
xep_0115, xep_0163, xep_0118, xep_0223 and xep_0352; for MAM and bookmarks xep_0045,
xep_0059, xep_0313, xep_0048, xep_0049 and xep_0060) and never writes raw XML.

Input: one JSON argument
    {"domain": "localhost", "ports": [<c2s port of gateway A>, <of gateway B>],
     "password": "...", "users": {"alice": "<localpart>", "bob": "<localpart>"},
     "timeout": <seconds for every single wait>,
     "allow_plain": <optional, true to let slixmpp use PLAIN without TLS: for a reference
                     Prosody with insecure authentication, which offers nothing else>}
Output on stdout: one JSON object per line, {"step": <name>, ...observations} or
{"step": <name>, "error": <text>} when the step raised; the last line is {"step": "done"}.
With PARLEY_SLIXMPP_DEBUG=1 in the environment, slixmpp logs every stanza it sends and
receives on stderr. Every wait is bounded by `timeout`; the caller bounds the whole run too.
Plain TCP without TLS (the test gateways have no certificate); slixmpp then authenticates
with SCRAM. Both "gateways" may be the same port (the run against reference Prosody).
"""

import asyncio
import base64
import hashlib
import json
import logging
import os
import sys
import time
import traceback

import slixmpp
from slixmpp import JID
from slixmpp.exceptions import IqError, IqTimeout

CFG = json.loads(sys.argv[1])
DOMAIN = CFG["domain"]
PORT_A, PORT_B = CFG["ports"]
PASSWORD = CFG["password"]
T = float(CFG["timeout"])
ALICE = f'{CFG["users"]["alice"]}@{DOMAIN}'
BOB = f'{CFG["users"]["bob"]}@{DOMAIN}'
BLOCKING_ERRORS = "urn:xmpp:blocking:errors"


def emit(step, **data):
    print(json.dumps({"step": step, **data}), flush=True)


class Client(slixmpp.ClientXMPP):
    """A ClientXMPP that logs every event it cares about, so that steps can wait after the fact."""

    def __init__(self, jid, extra=()):
        super().__init__(jid, PASSWORD)
        for plugin in ("xep_0030", "xep_0054", "xep_0191", "xep_0199", "xep_0280", *extra):
            self.register_plugin(plugin)
        # Subscription requests are answered by the steps, explicitly (RFC 6121 §3.1.3).
        self.auto_authorize = None
        self.auto_subscribe = False
        self.log = []  # (kind, stanza), in arrival order
        self.consumed = set()
        self.changed = asyncio.Event()
        for kind in ("message", "message_error", "presence", "carbon_received", "carbon_sent", "roster_subscription_request", "blocked", "unblocked", "user_tune_publish"):
            self.add_event_handler(kind, self._recorder(kind))
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", lambda _: self.started.done() or self.started.set_result(True))
        self.add_event_handler("failed_all_auth", lambda _: self.started.done() or self.started.set_exception(RuntimeError("authentication failed")))
        self.add_event_handler("connection_failed", lambda e: self.started.done() or self.started.set_exception(RuntimeError(f"connection failed: {e}")))
        if CFG.get("allow_plain"):
            self["feature_mechanisms"].unencrypted_plain = True
        self.mechanism = None
        self.add_event_handler("auth_success", self._auth_success)
        # Iq replies as received, before slixmpp's handlers touch the stanza objects.
        self.iq_in = {}
        self.add_filter("in", self._keep_iq)

    def _keep_iq(self, stanza):
        if stanza.name == "iq" and stanza["type"] in ("result", "error") and len(self.iq_in) < 1000:
            self.iq_in[stanza["id"]] = str(stanza)
        return stanza

    def _auth_success(self, _):
        mech = getattr(self.plugin["feature_mechanisms"], "mech", None)
        self.mechanism = getattr(mech, "name", None)

    def _recorder(self, kind):
        def record(stanza):
            self.log.append((kind, stanza))
            self.changed.set()
        return record

    def mark(self):
        """A position in the event log, for `wait_for(since=...)`."""
        return len(self.log)

    async def wait_for(self, kind, match=lambda s: True, timeout=None, since=0):
        """The first logged `kind` event (from position `since` on) not returned before that satisfies `match`, within `timeout` s."""
        deadline = time.monotonic() + (T if timeout is None else timeout)
        while True:
            for i, (k, stanza) in enumerate(self.log):
                if i >= since and i not in self.consumed and k == kind and match(stanza):
                    self.consumed.add(i)
                    return stanza
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.boundjid}: no {kind} event matched within {T if timeout is None else timeout}s")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def nothing(self, kind, match, seconds=1.0):
        """True when no matching `kind` event arrives within `seconds`."""
        try:
            await self.wait_for(kind, match, seconds)
            return False
        except TimeoutError:
            return True


async def login(bare, resource, port, status=None, plugins=()):
    """Connects without TLS, waits for the session, fetches the roster and sends initial presence."""
    c = Client(f"{bare}/{resource}", plugins)
    c.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(c.started, T)
    await c.get_roster(timeout=T)
    c.send_presence(pstatus=status)
    return c


async def logout(c):
    await asyncio.wait_for(c.disconnect(wait=T), T + 1)


def presence_from(jid, ptype="available"):
    return lambda p: str(p["from"]) == jid and p["type"] == ptype


def photo_of(presence):
    """The XEP-0153 photo hash of a presence: its text, '' for an empty <photo/>, None without one."""
    photo = presence.xml.find("{vcard-temp:x:update}x/{vcard-temp:x:update}photo")
    return None if photo is None else (photo.text or "")


def error_of(stanza):
    """(type, condition, children namespaces) of a stanza error."""
    err = stanza["error"]
    return {"type": err["type"], "condition": err["condition"],
            "children": sorted(child.tag for child in err.xml)}


async def full_roster(c):
    """A roster get without `ver` (RFC 6121 §2.1.3): the whole roster, whatever the client cached."""
    iq = c.make_iq_get()
    iq.enable("roster")
    return roster_view(await iq.send(timeout=T))


def roster_view(iq):
    items = iq["roster"]["items"]
    return {str(jid): {"name": item["name"], "subscription": item["subscription"], "groups": sorted(item["groups"])}
            for jid, item in items.items()}


async def step(name, body):
    try:
        emit(name, **(await body()))
    except (IqError, IqTimeout) as e:
        detail = e.iq["error"]["condition"] if isinstance(e, IqError) else "timeout"
        emit(name, error=f"{type(e).__name__}: {detail}", trace=traceback.format_exc(limit=3))
    except Exception as e:  # noqa: BLE001 - reported to the node test, which fails on it
        emit(name, error=f"{type(e).__name__}: {e}", trace=traceback.format_exc(limit=3))


async def main():
    s = {}

    async def logins():
        s["alice"] = await login(ALICE, "a1", PORT_A)
        s["bob"] = await login(BOB, "b1", PORT_B)
        return {"alice": str(s["alice"].boundjid), "bob": str(s["bob"].boundjid),
                "mechanisms": [s["alice"].mechanism, s["bob"].mechanism]}
    await step("login", logins)
    if "bob" not in s:
        emit("done")
        return
    alice, bob = s["alice"], s["bob"]

    async def service_discovery():
        info = await alice["xep_0030"].get_info(jid=DOMAIN, timeout=T)
        await alice["xep_0199"].send_ping(DOMAIN, timeout=T)  # raises on an error reply
        started = time.monotonic()
        await bob["xep_0199"].send_ping(DOMAIN, timeout=T)
        return {"features": sorted(info["disco_info"]["features"]), "ping_ms": round((time.monotonic() - started) * 1000, 1)}
    await step("disco", service_discovery)

    async def roster_and_subscriptions():
        # RFC 6121 §2.3 roster set, §3.1 subscription request, §3.1.5 approval, both ways.
        await alice.update_roster(JID(BOB), name="Bob", groups=["Friends"], timeout=T)
        alice.client_roster[BOB].subscribe()
        request = await bob.wait_for("roster_subscription_request", lambda p: p["from"].bare == ALICE)
        bob.client_roster[ALICE].authorize()
        bob.client_roster[ALICE].subscribe()
        back = await alice.wait_for("roster_subscription_request", lambda p: p["from"].bare == BOB)
        alice.client_roster[BOB].authorize()
        deadline = time.monotonic() + T
        while time.monotonic() < deadline and (alice.client_roster[BOB]["subscription"] != "both" or bob.client_roster[ALICE]["subscription"] != "both"):
            await asyncio.sleep(0.05)
        # slixmpp's own get_roster() sends the version it holds: §2.6.3, nothing new means an
        # empty result, as the pushes already told it everything.
        sent_ver = alice.client_roster.version if "rosterver" in alice.features else None
        versioned = await alice.get_roster(timeout=T)
        versioned_wire = alice.iq_in.get(versioned["id"], "")
        return {"request_from": str(request["from"]), "request_back_from": str(back["from"]),
                "alice_pushed": alice.client_roster[BOB]["subscription"], "bob_pushed": bob.client_roster[ALICE]["subscription"],
                "sent_ver": sent_ver, "versioned_get_result": versioned_wire,
                "alice_server": await full_roster(alice), "bob_server": await full_roster(bob)}
    await step("roster", roster_and_subscriptions)

    async def presence_both_ways():
        # RFC 6121 §4.2/§4.4: once subscribed, each sees the other's available presence;
        # §4.5 unavailable on logout; §4.3 the probe answer when bob comes back.
        alice_saw_bob = await alice.wait_for("presence", presence_from(f"{BOB}/b1"))
        bob_saw_alice = await bob.wait_for("presence", presence_from(f"{ALICE}/a1"))
        started = time.monotonic()
        at_logout = alice.mark()
        await logout(bob)
        gone = await alice.wait_for("presence", presence_from(f"{BOB}/b1", "unavailable"), since=at_logout)
        offline_ms = round((time.monotonic() - started) * 1000, 1)
        at_login = alice.mark()
        s["bob"] = again = await login(BOB, "b1", PORT_B, status="back")
        back = await alice.wait_for("presence", presence_from(f"{BOB}/b1"), since=at_login)
        probe_answer = await again.wait_for("presence", presence_from(f"{ALICE}/a1"))
        return {"alice_saw_bob": str(alice_saw_bob["from"]), "bob_saw_alice": str(bob_saw_alice["from"]),
                "unavailable_from": str(gone["from"]), "unavailable_ms": offline_ms,
                "back_status": back["status"], "back_photo": photo_of(back), "probe_answer_from": str(probe_answer["from"]),
                "online_resources": sorted(alice.client_roster[BOB].resources.keys())}
    await step("presence", presence_both_ways)
    bob = s["bob"]

    async def vcard():
        # XEP-0054: bob publishes his vCard, alice reads it from bob's bare JID.
        card = bob["xep_0054"].make_vcard()
        card["FN"] = "Bob Builder"
        card["NICKNAME"] = "bobby"
        avatar = b"\x89PNG\r\n\x1a\n not really an image"
        card["PHOTO"]["TYPE"] = "image/png"
        card["PHOTO"]["BINVAL"] = avatar
        await bob["xep_0054"].publish_vcard(card, timeout=T)
        read = await alice["xep_0054"].get_vcard(JID(BOB), local=False, cached=False, timeout=T)
        own = await bob["xep_0054"].get_vcard(JID(BOB), local=False, cached=False, timeout=T)
        # XEP-0153 §4.2: the server puts the avatar's hash into bob's next available presence.
        since = alice.mark()
        bob.send_presence(pstatus="with avatar")
        update = await alice.wait_for("presence", lambda p: str(p["from"]) == f"{BOB}/b1" and p["status"] == "with avatar", since=since)
        return {"read_by_alice": {"FN": read["vcard_temp"]["FN"], "NICKNAME": read["vcard_temp"]["NICKNAME"],
                                  "PHOTO": read["vcard_temp"]["PHOTO"]["BINVAL"] == avatar},
                "read_by_bob": {"FN": own["vcard_temp"]["FN"], "NICKNAME": own["vcard_temp"]["NICKNAME"]},
                "presence_photo": photo_of(update), "avatar_sha1": hashlib.sha1(avatar).hexdigest()}
    await step("vcard", vcard)

    async def blocking():
        # XEP-0191: block, the refusals both ways, unblock.
        before = await alice["xep_0191"].get_blocked(timeout=T)  # also asks for the pushes (§3.1)
        await alice["xep_0191"].block(JID(BOB), timeout=T)
        push = await alice.wait_for("blocked")
        listed = await alice["xep_0191"].get_blocked(timeout=T)
        went_unavailable = await bob.wait_for("presence", presence_from(f"{ALICE}/a1", "unavailable"))
        out = alice.make_message(mto=BOB, mbody="to a blocked contact", mtype="chat")
        out["id"] = "blocked-out"
        out.send()
        refused_out = await alice.wait_for("message_error", lambda m: m["id"] == "blocked-out")
        inbound = bob.make_message(mto=f"{ALICE}/a1", mbody="from a blocked contact", mtype="chat")
        inbound["id"] = "blocked-in"
        inbound.send()
        try:
            # XEP-0191 §3.3 wants service-unavailable; Prosody 0.12 drops a message to an
            # online full JID instead, so a missing error is recorded (None), not raised.
            refused_in = error_of(await bob.wait_for("message_error", lambda m: m["id"] == "blocked-in", min(T, 5)))
        except TimeoutError:
            refused_in = None
        alice_got_nothing = await alice.nothing("message", lambda m: m["body"] == "from a blocked contact" and m["type"] != "error")
        await alice["xep_0191"].unblock(JID(BOB), timeout=T)
        unpush = await alice.wait_for("unblocked")
        after = await alice["xep_0191"].get_blocked(timeout=T)
        presence_again = await bob.wait_for("presence", presence_from(f"{ALICE}/a1"))
        alice.send_message(mto=BOB, mbody="unblocked now", mtype="chat")
        delivered = await bob.wait_for("message", lambda m: m["body"] == "unblocked now" and m["type"] == "chat")
        return {"before": sorted(str(j) for j in before["blocklist"]["items"]),
                "push": sorted(str(j) for j in push["block"]["items"]),
                "listed": sorted(str(j) for j in listed["blocklist"]["items"]),
                "bob_saw_unavailable": str(went_unavailable["from"]),
                "outbound_error": error_of(refused_out), "outbound_blocked_child": refused_out.xml.find(f"{{jabber:client}}error/{{{BLOCKING_ERRORS}}}blocked") is not None,
                "inbound_error": refused_in, "alice_got_nothing": alice_got_nothing,
                "unblock_push": sorted(str(j) for j in unpush["unblock"]["items"]),
                "after": sorted(str(j) for j in after["blocklist"]["items"]),
                "bob_saw_available_again": str(presence_again["from"]), "delivered_from": str(delivered["from"])}
    await step("blocking", blocking)

    async def carbons():
        # XEP-0280 with alice's two resources on different gateways.
        s["alice2"] = alice2 = await login(ALICE, "a2", PORT_B)
        await alice["xep_0280"].enable(timeout=T)
        await alice2["xep_0280"].enable(timeout=T)
        bob.send_message(mto=f"{ALICE}/a1", mbody="for a1, copied to a2", mtype="chat")
        direct = await alice.wait_for("message", lambda m: m["body"] == "for a1, copied to a2")
        received = await alice2.wait_for("carbon_received")
        alice.send_message(mto=BOB, mbody="sent from a1", mtype="chat")
        at_bob = await bob.wait_for("message", lambda m: m["body"] == "sent from a1")
        sent = await alice2.wait_for("carbon_sent")
        r, c = received["carbon_received"], sent["carbon_sent"]
        return {"direct_from": str(direct["from"]),
                "received": {"wrapper_from": str(received["from"]), "from": str(r["from"]), "to": str(r["to"]), "body": r["body"]},
                "sent": {"wrapper_from": str(sent["from"]), "from": str(c["from"]), "to": str(c["to"]), "body": c["body"]},
                "bob_got_from": str(at_bob["from"])}
    await step("carbons", carbons)

    async def pep():
        # XEP-0163 with slixmpp's xep_0115/xep_0163/xep_0118 plugins: Bob's client says
        # tune+notify in its caps (the server asks its disco#info); Alice, on the other gateway,
        # publishes a tune. XEP-0223 (publish options: whitelist, persistent) read back, and
        # refused to Bob. XEP-0352 (xep_0352): Alice's presence waits while Bob is inactive,
        # until a message with a body.
        from slixmpp.plugins.xep_0118 import UserTune
        plugins = ("xep_0115", "xep_0163", "xep_0118", "xep_0223", "xep_0352")
        s["alice_p"] = ap = await login(ALICE, "p1", PORT_A, plugins=plugins)
        s["bob_p"] = bp = await login(BOB, "p2", PORT_B, plugins=plugins)
        await ap["xep_0118"].publish_tune(artist="Arvo Part", title="Spiegel im Spiegel", timeout=T)
        event = await bp.wait_for("user_tune_publish", lambda m: m["from"].bare == ALICE)
        title = event.xml.find(".//{http://jabber.org/protocol/tune}title")
        private = UserTune()
        private["title"] = "only mine"
        await ap["xep_0223"].store(private, node="urn:x-parley:interop", id="current", timeout=T)
        back = await ap["xep_0223"].retrieve("urn:x-parley:interop", id="current", timeout=T)
        back_title = back.xml.find(".//{http://jabber.org/protocol/tune}title")
        try:
            await bp["xep_0060"].get_items(JID(ALICE), "urn:x-parley:interop", timeout=T)
            bob_read = "allowed"
        except IqError as e:
            bob_read = e.iq["error"]["condition"]
        out = {"event_from": str(event["from"]), "event_title": None if title is None else title.text,
               "private_title": None if back_title is None else back_title.text, "bob_read_private": bob_read,
               "csi": bp["xep_0352"].enabled}
        if bp["xep_0352"].enabled:
            bp["xep_0352"].send_inactive()
            await bp["xep_0199"].send_ping(DOMAIN, timeout=T)  # the inactive nonza is handled before the ping
            mark = bp.mark()
            ap.send_presence(pstatus="csi held")
            out["held"] = await bp.nothing("presence", lambda p: p["status"] == "csi held", 1.0)
            ap.send_message(mto=f"{BOB}/p2", mbody="csi wake", mtype="chat")
            await bp.wait_for("message", lambda m: m["body"] == "csi wake")
            out["order"] = [k if k != "presence" else f"presence:{st['status']}" for k, st in bp.log[mark:]
                            if k in ("presence", "message") and st["from"].bare == ALICE]
            bp["xep_0352"].send_active()
        return out
    await step("pep", pep)

    async def avatar():
        # XEP-0084 with slixmpp's xep_0084 plugin (its caps say urn:xmpp:avatar:metadata+notify):
        # Alice publishes the data, then the metadata (default PEP configuration: presence
        # access); Bob, her contact on the other gateway, gets the metadata notification and
        # fetches the data by the id it names (XEP-0084 §4.1, §4.2).
        plugins = ("xep_0115", "xep_0163", "xep_0084")
        s["alice_av"] = aa = await login(ALICE, "av1", PORT_A, plugins=plugins)
        s["bob_av"] = ba = await login(BOB, "av2", PORT_B, plugins=plugins)
        for c in (aa, ba):
            c.add_event_handler("avatar_metadata_publish", c._recorder("avatar_metadata_publish"))
        data = bytes(range(256)) * 8  # 2 KiB, not an image: the server does not look inside
        avatar_id = aa["xep_0084"].generate_id(data)
        await aa["xep_0084"].publish_avatar(data, timeout=T)
        await aa["xep_0084"].publish_avatar_metadata({"id": avatar_id, "type": "image/png", "bytes": len(data), "width": "64", "height": "64"}, timeout=T)
        event = await ba.wait_for("avatar_metadata_publish", lambda m: m["from"].bare == ALICE)
        info = event.xml.find(".//{urn:xmpp:avatar:metadata}info")
        got = await ba["xep_0084"].retrieve_avatar(JID(ALICE), info.get("id"), timeout=T)
        value = got.xml.find(".//{urn:xmpp:avatar:data}data")
        return {"event_from": str(event["from"]), "info_id_matches": info.get("id") == avatar_id,
                "info_bytes": info.get("bytes"), "data_matches": value is not None and base64.b64decode(value.text or "") == data}
    await step("avatar", avatar)

    def stanza_id_by(msg, by):
        """The XEP-0359 stanza-id that `by` put on `msg`, or None."""
        for sid in msg.xml.findall("{urn:xmpp:sid:0}stanza-id"):
            if sid.get("by") == by:
                return sid.get("id")
        return None

    async def archive(c, jid=None, with_jid=None, page=2):
        """The whole archive of `jid` (own account when None) through slixmpp's xep_0313 iterate, RSM pages of `page`."""
        out = []
        async for msg in c["xep_0313"].iterate(jid=jid, with_jid=with_jid, rsm={"max": page}):
            fwd = msg["mam_result"]["forwarded"]["stanza"]
            out.append({"id": msg["mam_result"]["id"], "body": fwd["body"], "from": str(fwd["from"]), "to": str(fwd["to"])})
        return out

    async def mam():
        # XEP-0313 with slixmpp's xep_0313 plugin (RSM pages of 2 by xep_0059): Alice sends Bob
        # three chat messages across gateways; both accounts' archives hold them under the
        # stanza-id Bob's copy carried (XEP-0359, by Bob's bare JID). Then a room: Alice creates
        # it, Bob joins, Alice says three things; Bob reads the room's archive.
        plugins = ("xep_0045", "xep_0059", "xep_0297", "xep_0313")
        s["alice_m"] = am = await login(ALICE, "m1", PORT_A, plugins=plugins)
        s["bob_m"] = bm = await login(BOB, "m2", PORT_B, plugins=plugins)
        # Both query their archive first, as clients do after login: the reference Prosody's
        # mam_smart_enable archives an account only once it has queried its archive.
        await archive(am)
        await archive(bm)
        chat_ids = []
        for i in (1, 2, 3):
            am.send_message(mto=f"{BOB}/m2", mbody=f"mam-chat-{i}", mtype="chat")
            got = await bm.wait_for("message", lambda m, i=i: m["body"] == f"mam-chat-{i}")
            chat_ids.append(stanza_id_by(got, BOB))
        bob_archive = [m for m in await archive(bm, with_jid=JID(ALICE)) if m["body"].startswith("mam-chat-")]
        alice_archive = [m for m in await archive(am, with_jid=JID(BOB)) if m["body"].startswith("mam-chat-")]

        room = f"sx-mam@conference.{DOMAIN}"
        await am["xep_0045"].join_muc_wait(JID(room), "Alice", maxstanzas=0, timeout=T)
        form = await am["xep_0045"].get_room_config(JID(room), timeout=T)
        await am["xep_0045"].set_room_config(JID(room), form, timeout=T)
        await bm["xep_0045"].join_muc_wait(JID(room), "Bob", maxstanzas=0, timeout=T)
        room_ids = []
        for i in (1, 2, 3):
            am.send_message(mto=room, mbody=f"mam-room-{i}", mtype="groupchat")
            got = await bm.wait_for("message", lambda m, i=i: m["type"] == "groupchat" and m["body"] == f"mam-room-{i}")
            room_ids.append(stanza_id_by(got, room))
        room_archive = await archive(bm, jid=JID(room))
        am["xep_0045"].leave_muc(JID(room), "Alice")
        bm["xep_0045"].leave_muc(JID(room), "Bob")
        return {"chat_live_ids_present": all(chat_ids), "room_live_ids_present": all(room_ids),
                "bob_bodies": [m["body"] for m in bob_archive], "bob_ids_match": [m["id"] for m in bob_archive] == chat_ids,
                "bob_from": sorted({m["from"] for m in bob_archive}), "bob_to": sorted({m["to"] for m in bob_archive}),
                "alice_bodies": [m["body"] for m in alice_archive], "alice_ids_unique": len({m["id"] for m in alice_archive}) == len(alice_archive),
                "room_bodies": [m["body"] for m in room_archive], "room_ids_match": [m["id"] for m in room_archive] == room_ids,
                "room_from": sorted({m["from"] for m in room_archive})}
    await step("mam", mam)

    async def bookmarks():
        # XEP-0048 bookmarks with slixmpp's xep_0048 plugin over private XML storage (xep_0049),
        # read back the same way and, through the XEP-0411 mapping, as XEP-0402 items of the
        # urn:xmpp:bookmarks:1 PEP node (slixmpp has no xep_0402 plugin: xep_0060 get_items).
        # A second store without one room removes it from the PEP node too.
        from slixmpp.plugins.xep_0048.stanza import Bookmarks
        plugins = ("xep_0048", "xep_0049", "xep_0060")
        s["alice_b"] = ab = await login(ALICE, "bm1", PORT_A, plugins=plugins)
        rooms = [f"sx-bm-one@conference.{DOMAIN}", f"sx-bm-two@conference.{DOMAIN}"]
        marks = Bookmarks()
        marks.add_conference(rooms[0], "Alice", name="One", autojoin=True)
        marks.add_conference(rooms[1], "Al", name="Two", autojoin=False)
        await ab["xep_0048"].set_bookmarks(marks, method="xep_0049", timeout=T)
        got = await ab["xep_0048"].get_bookmarks(method="xep_0049", timeout=T)

        def conferences(storage):
            return sorted([{"jid": str(c["jid"]), "nick": c["nick"], "name": c["name"], "autojoin": bool(c["autojoin"])}
                           for c in storage["conferences"]], key=lambda c: c["jid"])

        async def pep_items():
            items = await ab["xep_0060"].get_items(JID(ALICE), "urn:xmpp:bookmarks:1", timeout=T)
            out = []
            for item in items["pubsub"]["items"]:
                conf = item.xml.find("{urn:xmpp:bookmarks:1}conference")
                nick = None if conf is None else conf.find("{urn:xmpp:bookmarks:1}nick")
                out.append({"id": item["id"], "name": None if conf is None else conf.get("name"),
                            "autojoin": None if conf is None else conf.get("autojoin") in ("true", "1"),
                            "nick": None if nick is None else nick.text})
            return sorted(out, key=lambda i: i["id"])
        pep_after_store = await pep_items()
        fewer = Bookmarks()
        fewer.add_conference(rooms[1], "Al", name="Two", autojoin=False)
        await ab["xep_0048"].set_bookmarks(fewer, method="xep_0049", timeout=T)
        pep_after_removal = await pep_items()
        got_after_removal = await ab["xep_0048"].get_bookmarks(method="xep_0049", timeout=T)
        # Leave nothing behind for a later run on the same accounts.
        await ab["xep_0048"].set_bookmarks(Bookmarks(), method="xep_0049", timeout=T)
        return {"private": conferences(got["private"]["bookmarks"]), "pep": pep_after_store,
                "pep_after_removal": pep_after_removal, "private_after_removal": conferences(got_after_removal["private"]["bookmarks"])}
    await step("bookmarks", bookmarks)

    for c in list(s.values()):
        try:
            await logout(c)
        except Exception:  # noqa: BLE001 - best effort at the end; the caller kills us anyway
            pass
    emit("done")


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if os.environ.get("PARLEY_SLIXMPP_DEBUG") else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())
