"""The client's address and scheme: from forwarded headers only as far as trusted proxies go."""

from ipaddress import ip_network

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.api.middleware.forwarded import ForwardedHeadersMiddleware

PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


async def seen_by_the_app(peer: str, *headers: tuple[str, str]) -> tuple[str, str]:
    """The client address and scheme the app sees for a request from `peer`."""
    seen: dict[str, Scope] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["scope"] = scope

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    async def ignore(message: Message) -> None:
        pass

    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 40000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
    }
    await ForwardedHeadersMiddleware(app, trusted_proxies=PROXIES)(scope, nothing, ignore)
    return seen["scope"]["client"][0], seen["scope"]["scheme"]


async def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    forwarded = ("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-Proto", "https")
    assert await seen_by_the_app("203.0.113.7", *forwarded) == ("203.0.113.7", "http")


async def test_the_right_most_untrusted_hop_is_the_client() -> None:
    """A client's own X-Forwarded-For is on the left; the proxy appended the real peer."""
    forwarded = ("X-Forwarded-For", "198.51.100.1, 192.0.2.44")
    assert (await seen_by_the_app("10.0.0.5", forwarded))[0] == "192.0.2.44"


async def test_a_chain_of_trusted_proxies_is_walked_back() -> None:
    forwarded = ("X-Forwarded-For", "198.51.100.1, 192.0.2.44, 10.1.2.3, fd00::7")
    assert (await seen_by_the_app("10.0.0.5", forwarded))[0] == "192.0.2.44"


async def test_repeated_headers_count_as_one_list() -> None:
    first, second = ("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "192.0.2.44")
    assert (await seen_by_the_app("10.0.0.5", first, second))[0] == "192.0.2.44"


@pytest.mark.parametrize(
    ("entry", "address"),
    [("192.0.2.44:5123", "192.0.2.44"), ("[2001:db8::1]:443", "2001:db8::1")],
)
async def test_ports_that_proxies_add_are_dropped(entry: str, address: str) -> None:
    forwarded = ("X-Forwarded-For", f"198.51.100.1, {entry}")
    assert (await seen_by_the_app("10.0.0.5", forwarded))[0] == address


async def test_the_scheme_comes_from_a_trusted_proxy() -> None:
    forwarded = ("X-Forwarded-For", "192.0.2.44"), ("X-Forwarded-Proto", "https")
    assert await seen_by_the_app("10.0.0.5", *forwarded) == ("192.0.2.44", "https")


async def test_an_unknown_scheme_is_ignored() -> None:
    forwarded = ("X-Forwarded-For", "192.0.2.44"), ("X-Forwarded-Proto", "gopher")
    assert await seen_by_the_app("10.0.0.5", *forwarded) == ("192.0.2.44", "http")
