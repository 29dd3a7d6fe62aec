"""The rendered suite's TCP relay (template/tests/relay.py), for the template's sync tests.

The relay is the rendered project's own, loaded from the template's source; here it runs
on an event loop in a daemon thread of its own, so a test can cut the database or Redis
away from a running service and give it back, and a failing test never leaves it behind.
"""

import asyncio
import contextlib
import importlib.util
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from tests.support.environment import TEMPLATE_ROOT

T = TypeVar("T")

_spec = importlib.util.spec_from_file_location(
    "rendered_relay", TEMPLATE_ROOT / "template/tests/relay.py"
)
assert _spec is not None and _spec.loader is not None
_rendered = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rendered)


class TcpRelay:
    """Forwards a loopback port to a target until `cut()`; `restore()` forwards again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._relay = self._call(_rendered.Relay(target_host, target_port).start())
        self.port: int = self._relay.port

    def cut(self) -> None:
        self._call(_run(self._relay.cut))

    def restore(self) -> None:
        self._call(_run(self._relay.restore))

    def close(self) -> None:
        self._call(self._relay.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()  # its own sockets too, or they warn when collected

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)


async def _run(action: Callable[[], None]) -> None:
    """Do `action` on the relay's loop, and return once it is done."""
    action()


@contextlib.contextmanager
def relay_to(host: str, port: int) -> Iterator[TcpRelay]:
    relay = TcpRelay(host, port)
    try:
        yield relay
    finally:
        relay.close()
