"""A fault-injecting TCP proxy (asyncio, in a background thread) for putting between the app and Redis.

It forwards bytes both ways and, on request, misbehaves on the *reply* to
one chosen command: the next client chunk that contains a marker (say
``b"EVALSHA"``) arms its connection, and the server's next reply on that
connection is delayed, stalled (never forwarded) or cut (both sides closed,
the reply dropped). The command itself reaches Redis: exactly the "the
script ran but the app never heard" case that retries get wrong. ``refuse``
instead closes the connection without forwarding the command (it never ran).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

from .processes import free_port


@dataclass
class Fault:
    """What to do to the reply of the next command containing ``marker``."""

    marker: bytes
    action: str  # "delay", "stall", "cut" or "refuse"
    seconds: float = 0.0
    hits: int = 0  # how many replies this fault has hit so far


class FaultProxy:
    """``127.0.0.1:<port>`` -> ``target``; :meth:`arm` one fault at a time, :meth:`cut_all` for a crash."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.fault: Fault | None = None
        self.fault_times = 1  # replies the armed fault hits before it disarms
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fault proxy did not start")

    # control (any thread) -------------------------------------------------
    def arm(self, marker: bytes, action: str, seconds: float = 0.0, times: int = 1) -> Fault:
        """Misbehave on the replies to the next ``times`` commands containing ``marker``."""
        if action not in ("delay", "stall", "cut", "refuse"):
            raise ValueError(action)
        self.fault_times = times
        self.fault = Fault(marker, action, seconds)
        return self.fault

    def disarm(self) -> None:
        self.fault = None

    def cut_all(self) -> None:
        """Close every proxied connection now (as if Redis or the network died)."""
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(5)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        await self._close_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # the proxy ------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}
        pending: list[Fault] = []  # faults armed by this connection's commands, oldest first
        up = asyncio.ensure_future(self._upstream(client_r, server_w, pending))
        down = asyncio.ensure_future(self._downstream(server_r, client_w, server_w, pending))
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        for writer in (client_w, server_w):
            writer.close()
            self._writers.discard(writer)

    async def _upstream(self, reader, writer, pending: list[Fault]) -> None:
        while data := await reader.read(65536):
            fault = self.fault
            if fault is not None and fault.marker in data:
                fault.hits += 1
                if fault.hits >= self.fault_times:
                    self.fault = None
                if fault.action == "refuse":
                    return
                pending.append(fault)
            writer.write(data)
            await writer.drain()

    async def _downstream(self, reader, writer, server_w, pending: list[Fault]) -> None:
        while data := await reader.read(65536):
            if pending:
                fault = pending.pop(0)
                if fault.action == "cut":
                    return
                if fault.action == "stall":
                    await asyncio.Event().wait()
                await asyncio.sleep(fault.seconds)
            writer.write(data)
            await writer.drain()
