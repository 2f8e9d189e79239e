"""The citizens of the fault runs: exam clients that follow the reference client's rules (docs/protocol.md,
"Reconnecting and resuming"; ``static/js/exam.js``), in load-client processes without Django.

Each citizen answers one question every ``interval`` seconds (random phase) and

- keeps every answer until an ``ack`` with that seq or a later one arrives for its position, and resends all
  of them after every reconnect, and 1.5 s after ``storage_unavailable`` / ``rate_limited`` (one resend for any
  number of refusals; ``amplify`` reproduces exam.js's former resend per refusal);
- reconnects after 1000/1001/1006/4500 or a network error with exponential backoff and jitter (0.5 s doubling
  to 15 s, times 0.5–1.0), never after 4001/4401/4403/4408/4410 (4001 is counted as a visible error and then
  "continue here" is pressed after 2 s, as a person would);
- on a snapshot drops the pending answers the server already holds and raises its seq to ``last_seq``;
- when told to stop, waits for its pending answers, then sends ``submit`` (again after a reconnect) until
  ``attempt.submitted``.

One thing the reference client does not do: a **watchdog** (``watchdog`` s, 10 by default). A connection on
which something was sent and nothing at all came back for that long is aborted and reopened — without it a
host whose network link is cut leaves the socket hanging until TCP gives up (minutes). Every ack, error
frame and close code is recorded with the time it happened, for the parent (``bench/faults/run.py``) to
compare with the database and to measure the time to recover from each fault.

The parent steers every process through shared memory (``Control``): start, faults (times), a reconnect
storm (every socket aborted at once), a device switch (a sample of citizens opens the attempt on another
server process: "the newer connection wins"), stop-and-submit.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

RECONNECT_CODES = {1000, 1001, 1005, 1006, 1011, 1012, 1013, 4500}
STOP_CODES = {4001, 4401, 4403, 4408, 4410}
RETRY_LATER = {"storage_unavailable", "rate_limited", "server_error"}
MAX_FAULTS = 8


@dataclass
class Control:
    """Shared memory between the parent and the client processes (multiprocessing Values / Arrays)."""

    start_at: Any  # Value d: the moment answering starts
    stop: Any  # Value i: 1 = stop answering, then submit
    storm: Any  # Value i: incremented → every open socket is aborted at once
    switch: Any  # Value i: incremented → every switch_every-th citizen opens its attempt on another process
    faults: Any  # Array d[MAX_FAULTS]: the moments of the faults (0 = none yet)
    ready: Any  # Semaphore: released by each process once all its citizens are connected


def _now() -> float:
    return time.time()


@dataclass
class Citizen:
    spec: dict[str, Any]
    index: int
    urls: list[str]
    job: dict[str, Any]
    ctl: Control
    stats: dict[str, Any]
    url_index: int = 0
    seq: int = 0
    choices: list[tuple[int, list[int]]] = field(default_factory=list)
    pending: dict[int, tuple[int, int]] = field(default_factory=dict)  # position → (seq, option)
    sent: dict[int, tuple[int, int]] = field(default_factory=dict)  # seq → (position, option)
    acked: dict[int, int] = field(default_factory=dict)  # position → highest acked seq
    ws: Any = None
    adopt: Any = None  # (ws, snapshot) of the second device, taken over when the first is replaced
    waiting_since: float | None = None
    flush_scheduled: bool = False
    switching: bool = False
    background: set[asyncio.Future] = field(default_factory=set)
    submit_wanted: bool = False
    submitted: bool = False
    stopped: bool = False  # 4401/4403/4408 or run over
    connected_once: asyncio.Event = field(default_factory=asyncio.Event)
    first_ack_after: list[float | None] = field(default_factory=lambda: [None] * MAX_FAULTS)
    last_ack: float = 0.0
    max_ack_gap: float = 0.0
    deadlines: set[int] = field(default_factory=set)
    storm_seen: int = 0
    disconnected_at: float | None = None
    reconnect_s: list[float] = field(default_factory=list)
    pushes: list[float] = field(default_factory=list)

    # -- bookkeeping -----------------------------------------------------------------------------
    def count(self, group: str, key: Any) -> None:
        bucket = self.stats[group]
        bucket[str(key)] = bucket.get(str(key), 0) + 1

    def _ack(self, msg: dict[str, Any]) -> None:
        seq, position = msg.get("seq"), msg.get("position")
        if msg.get("kind") == "prediction" or not isinstance(seq, int):
            return
        if position is None and seq in self.sent:
            position = self.sent[seq][0]
        if self.acked.get(position, 0) < seq:
            self.acked[position] = seq
        pending = self.pending.get(position)
        if pending and pending[0] <= seq:
            del self.pending[position]
        t = _now()
        self.stats["acks"] += 1
        if self.last_ack:
            self.max_ack_gap = max(self.max_ack_gap, t - self.last_ack)
        self.last_ack = t
        faults = self.ctl.faults
        for i in range(MAX_FAULTS):
            at = faults[i]
            if at and self.first_ack_after[i] is None and t > at:
                self.first_ack_after[i] = t

    def _snapshot(self, snap: dict[str, Any]) -> None:
        if not self.choices:
            self.choices = [(q["position"], [o["id"] for o in q.get("options", [])]) for q in snap["questions"]]
        self.seq = max(self.seq, int(snap.get("last_seq") or 0))
        if snap.get("deadline_ms") is not None:
            self.deadlines.add(int(snap["deadline_ms"]))
        for key, stored in (snap.get("answers") or {}).items():
            position = int(key)
            pending = self.pending.get(position)
            if pending and int(stored.get("seq") or 0) >= pending[0]:
                del self.pending[position]  # saved; its ack was lost
                if self.acked.get(position, 0) < pending[0]:
                    self.acked[position] = pending[0]
        if snap.get("status") not in (None, "in_progress"):
            self.submitted = self.submitted or self.submit_wanted

    async def _send(self, ws: Any, obj: dict[str, Any]) -> bool:
        try:
            await ws.send(json.dumps(obj))
        except Exception:
            return False
        if self.waiting_since is None:
            self.waiting_since = _now()
        return True

    async def _flush(self, ws: Any) -> None:
        """Resend every pending answer (duplicates are harmless); the submit is resent by ``answer``."""
        for position, (seq, option) in sorted(self.pending.items(), key=lambda item: item[1][0]):
            await self._send(ws, {"type": "answer", "seq": seq, "position": position,
                                  "response": {"options": [option]}})

    def _flush_later(self, ws: Any) -> None:
        """Resend the pending answers in 1.5 s — once, however many refusals arrive meanwhile. (With
        ``amplify`` every refusal schedules its own full resend, as static/js/exam.js did: k pending answers
        refused give k resends of all k, growing geometrically until ``rate_limited`` and then 4408.)"""
        if self.flush_scheduled and not self.job.get("amplify"):
            return
        self.flush_scheduled = True

        def fire() -> None:
            self.flush_scheduled = False
            if self.ws is ws:
                task = asyncio.ensure_future(self._flush(ws))
                self.background.add(task)
                task.add_done_callback(self.background.discard)

        asyncio.get_running_loop().call_later(1.5, fire)

    # -- connections -----------------------------------------------------------------------------
    async def _open(self, url: str) -> tuple[Any, dict[str, Any] | None]:
        from websockets.asyncio.client import connect

        t0 = _now()
        try:
            ws = await connect(url + f"ws/attempts/{self.spec['attempt_id']}/",
                               additional_headers={"Origin": self.job["origin"],
                                                   "Cookie": f"sessionid={self.spec['session_key']}"},
                               compression=None, ping_interval=None, open_timeout=self.job["open_timeout"],
                               close_timeout=2, max_size=2**20, max_queue=256)
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            self.count("connect_failed", f"http_{status}" if status else type(exc).__name__)
            return None, None
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), self.job["open_timeout"]))
        except Exception as exc:
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            self.count("connect_failed", f"closed_{code}" if code else type(exc).__name__)
            with contextlib.suppress(Exception):
                ws.transport.abort()
            return None, None
        if first.get("type") != "attempt.snapshot":
            self.count("connect_refused", first.get("code") or first.get("type"))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
            return None, None
        self.stats["connect_ms"].append(round((_now() - t0) * 1000, 1))
        return ws, first

    async def _receive(self, ws: Any) -> int:
        """Handle frames until the connection closes; its close code (1006 when none came)."""
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                self.waiting_since = None
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "ack":
                    self._ack(msg)
                elif kind == "error":
                    code = msg.get("code")
                    self.count("errors", code)
                    if code in RETRY_LATER:
                        self._flush_later(ws)
                    elif isinstance(msg.get("seq"), int) and msg["seq"] in self.sent:
                        position = self.sent[msg["seq"]][0]
                        if self.pending.get(position, (0,))[0] == msg["seq"]:
                            del self.pending[position]  # a permanent refusal: drop it
                elif kind == "attempt.snapshot":
                    self.pushes.append(_now())  # an unsolicited one: a push reached us (resync)
                    self._snapshot(msg)
                elif kind == "attempt.submitted":
                    self.submitted = True
                elif kind == "session.replaced":
                    self.stats["replaced_told"] += 1
                    if self.adopt is None and not self.switching:
                        self.count("visible", "session.replaced")
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
        except Exception as exc:
            self.count("receive_exception", type(exc).__name__)
            return 1006
        return ws.close_code or 1006

    async def run(self) -> None:
        backoff = 0.5
        while not self.stopped and not self.submitted:
            if self.adopt is not None:
                ws, snap = self.adopt
                self.adopt = None
            else:
                ws, snap = await self._open(self.urls[self.url_index % len(self.urls)])
                if ws is None:
                    self.url_index += 1  # as a load balancer does: the next process
                    await asyncio.sleep(min(15.0, backoff) * (0.5 + random.random() / 2))
                    backoff = min(15.0, backoff * 2)
                    continue
            backoff = 0.5
            if self.disconnected_at is not None:
                self.reconnect_s.append(_now() - self.disconnected_at)
                self.disconnected_at = None
            self._snapshot(snap)
            self.ws = ws
            self.connected_once.set()
            await self._flush(ws)
            code = await self._receive(ws)
            self.ws = None
            self.waiting_since = None
            self.count("closes", code)
            if code == 4410 or self.submitted:
                self.submitted = True
                break
            if code == 4001:
                for _ in range(100):  # the second device may still be reading its snapshot
                    if self.adopt is not None or not self.switching:
                        break
                    await asyncio.sleep(0.1)
                if self.adopt is not None:
                    continue  # the second device carries on
                self.count("visible", "closed_4001")
                await asyncio.sleep(2)  # the person presses "continue here"
                continue
            if code in STOP_CODES:
                self.count("visible", f"closed_{code}")
                self.stopped = True
                break
            if code not in RECONNECT_CODES:
                self.count("visible", f"closed_{code}")
            self.disconnected_at = _now()
            await asyncio.sleep(min(15.0, backoff) * (0.5 + random.random() / 2))
            backoff = min(15.0, backoff * 2)

    async def answer(self) -> None:
        interval = self.job["interval"]
        await asyncio.sleep(random.random() * interval)
        i = self.index
        while not self.ctl.stop.value and not self.stopped:
            if self.choices:
                position, options = self.choices[i % len(self.choices)]
                i += 1
                self.seq += 1
                option = random.choice(options)
                self.pending[position] = (self.seq, option)
                self.sent[self.seq] = (position, option)
                self.stats["answers_sent"] += 1
                if self.ws is not None:
                    await self._send(self.ws, {"type": "answer", "seq": self.seq, "position": position,
                                               "response": {"options": [option]}})
            await asyncio.sleep(interval)
        # Stop: wait for what is pending (resent on every reconnect), then submit until told it is done.
        self.submit_wanted = self.job["submit"]
        if not self.submit_wanted:
            return
        t0 = _now()
        sent_on: Any = None
        sent_at = 0.0
        while not self.submitted and not self.stopped and _now() - t0 < self.job["submit_timeout"]:
            ws = self.ws
            # Again on every new connection, and every 5 s on the same one (a refused submit: server_error).
            if ws is not None and not self.pending and (ws is not sent_on or _now() - sent_at > 5):
                sent_on, sent_at = ws, _now()
                self.seq += 1
                await self._send(ws, {"type": "submit", "seq": self.seq})
            await asyncio.sleep(0.2)
        if self.submitted:
            self.stats["submit_s"].append(round(_now() - t0, 2))
        else:
            self.count("visible", "submit_not_confirmed")

    async def watchdog(self) -> None:
        limit = self.job["watchdog"]
        while not self.submitted and not self.stopped:
            await asyncio.sleep(1.0)
            ws = self.ws
            if limit and ws is not None and self.waiting_since is not None and _now() - self.waiting_since > limit:
                self.stats["watchdog_aborts"] += 1
                self.waiting_since = None
                with contextlib.suppress(Exception):
                    ws.transport.abort()

    async def switch_device(self) -> None:
        """The same person opens the attempt on another server process while the first tab is still open: the
        newer connection must win (the older is told ``session.replaced`` and closed with 4001)."""
        old = self.ws
        if old is None:
            return
        self.switching = True
        try:
            await self._switch(old)
        finally:
            self.switching = False

    async def _switch(self, old: Any) -> None:
        current = self.url_index % len(self.urls)
        other = self.urls[(current + 1) % len(self.urls)]
        t0 = _now()
        ws, snap = await self._open(other)
        if ws is None:
            self.stats["switch"]["new_refused"] += 1
            return
        self.stats["switch"]["opened"] += 1
        self.url_index = current + 1
        self.adopt = (ws, snap)
        for _ in range(150):  # up to 15 s for the older connection to step aside
            if old.close_code is not None:
                break
            await asyncio.sleep(0.1)
        if old.close_code == 4001:
            self.stats["switch"]["old_closed_4001"] += 1
            self.stats["switch"]["told_s"].append(round(_now() - t0, 2))
        else:
            key = "both_live_15s" if old.close_code is None else f"old_closed_{old.close_code}"
            self.stats["switch"][key] = self.stats["switch"].get(key, 0) + 1
            with contextlib.suppress(Exception):
                old.transport.abort()  # let the citizen go on with the new one


async def _main(job: dict[str, Any], ctl: Control) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "acks": 0, "answers_sent": 0, "errors": {}, "closes": {}, "connect_failed": {}, "connect_refused": {},
        "visible": {}, "receive_exception": {}, "replaced_told": 0, "watchdog_aborts": 0,
        "connect_ms": [], "submit_s": [],
        "switch": {"opened": 0, "new_refused": 0, "old_closed_4001": 0, "both_live_15s": 0, "told_s": []},
    }
    citizens = [Citizen(spec=spec, index=spec["index"], urls=job["urls"], job=job, ctl=ctl, stats=stats,
                        url_index=spec["index"] % len(job["urls"])) for spec in job["specs"]]
    runners = [asyncio.ensure_future(c.run()) for c in citizens]
    await asyncio.wait_for(asyncio.gather(*(c.connected_once.wait() for c in citizens)), job["join_timeout"])
    gc.collect()
    gc.freeze()
    ctl.ready.release()
    while not ctl.start_at.value:  # noqa: ASYNC110 — set by the parent process (shared memory, no asyncio.Event)
        await asyncio.sleep(0.05)
    await asyncio.sleep(max(0.0, ctl.start_at.value - _now()))
    answerers = [asyncio.ensure_future(c.answer()) for c in citizens]
    dogs = [asyncio.ensure_future(c.watchdog()) for c in citizens]
    storms_seen = ctl.storm.value
    switches_seen = ctl.switch.value
    storms: list[dict[str, Any]] = []
    switchers: list[asyncio.Future] = []
    while not all(a.done() for a in answerers):
        await asyncio.sleep(0.05)
        if ctl.storm.value != storms_seen:
            storms_seen = ctl.storm.value
            t0 = _now()
            dropped = 0
            for c in citizens:
                if c.ws is not None:
                    dropped += 1
                    with contextlib.suppress(Exception):
                        c.ws.transport.abort()
            storms.append({"at": t0, "dropped": dropped})
        if ctl.switch.value != switches_seen:
            switches_seen = ctl.switch.value
            every = job["switch_every"]
            switchers += [asyncio.ensure_future(c.switch_device()) for c in citizens if c.index % every == 0]
    await asyncio.gather(*switchers, return_exceptions=True)
    for c in citizens:
        c.stopped = True
    for c in citizens:
        if c.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(c.ws.close(), 2)
    await asyncio.gather(*runners, *dogs, return_exceptions=True)
    stats["citizens"] = [{
        "attempt_id": c.spec["attempt_id"],
        "acked": {str(p): s for p, s in c.acked.items()},
        "sent": {str(s): list(v) for s, v in c.sent.items()},
        "pending_left": len(c.pending),
        "submitted": c.submitted,
        "first_ack_after": c.first_ack_after,
        "max_ack_gap": round(c.max_ack_gap, 2),
        "deadlines": sorted(c.deadlines),
        "reconnect_s": [round(x, 2) for x in c.reconnect_s],
        "pushes": c.pushes,
    } for c in citizens]
    stats["storms"] = storms
    return stats


def client_process(job: dict[str, Any], ctl: Control, out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        result = asyncio.run(_main(job, ctl))
    except BaseException as exc:  # report rather than hang the parent
        import traceback

        result = {"fatal": repr(exc), "traceback": traceback.format_exc()[-3000:]}
        with contextlib.suppress(Exception):
            ctl.ready.release()
    out.put(result)
