"""Peers the service trusts: its proxies (FORWARDED_ALLOW_IPS)."""

from collections.abc import Callable, Sequence
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


def trust_check(networks: Sequence[Network]) -> Callable[[str], bool]:
    """Whether a peer address is in one of `networks`. Parsing an address costs more than
    the rest of a middleware; the peers of a deployment are few (its proxies), and a
    bounded cache keeps their verdicts."""
    trusted = tuple(networks)

    @lru_cache(maxsize=1024)
    def is_trusted(host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:  # a name, or garbage from a header: never a listed proxy
            return False
        return any(address in network for network in trusted)

    return is_trusted
