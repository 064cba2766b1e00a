"""Where webhooks may send: `TargetPolicy` with a resolver the test controls.

The compat tests check the same rules through the API with the system's resolver; these pin
what only a controlled resolver can show: names that resolve to refused addresses, IPv4 behind
IPv6, several addresses, the allow-list by name and by network, and names that stop resolving.
"""

from __future__ import annotations

import ipaddress

import pytest

from hubstead.server import errors
from hubstead.server.services.webhooks.targets import TargetPolicy, UnresolvedHostError

ADDRESSES = {
    "ci.example": ["10.1.2.3"],
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "mixed.example": ["10.1.2.3", "127.0.0.1"],
    "v6.example": ["2001:db8::5"],
    "gone.example": [],
    "hub.example": ["10.9.9.9"],
}


def resolve(host: str, port: int) -> list[str]:
    """As the system's resolver: an address is itself, a name what the table says."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return ADDRESSES[host]


def policy(*allow: str) -> TargetPolicy:
    return TargetPolicy(allow, [("hub.example", 8080), ("10.9.9.9", 8080)], resolver=resolve)


def test_a_private_network_target_is_pinned_to_the_checked_address() -> None:
    target = policy().check_url("https://ci.example:8443/hook?x=1")

    assert (target.host, target.port, target.address) == ("ci.example", 8443, "10.1.2.3")
    assert target.pinned_url == "https://10.1.2.3:8443/hook?x=1"
    assert target.host_header == "ci.example:8443"


def test_an_ipv6_target_is_bracketed_in_the_pinned_url() -> None:
    assert policy().check_url("http://v6.example/h").pinned_url == "http://[2001:db8::5]:80/h"


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.example/latest",  # a name for the metadata service
        "http://mapped.example/",  # loopback behind an IPv4-mapped IPv6 address
        "http://mixed.example/",  # one of its addresses is loopback
    ],
)
def test_names_that_resolve_to_refused_addresses_are_refused(url: str) -> None:
    with pytest.raises(errors.InvalidRequestError, match="webhook_allow"):
        policy().check_url(url)


def test_the_allow_list_opens_a_name_or_a_network_but_never_the_hub() -> None:
    assert policy("metadata.example").check_url("http://metadata.example/").address == (
        "169.254.169.254"
    )
    assert policy("127.0.0.0/8").check_url("http://mapped.example/").address == ("::ffff:127.0.0.1")
    for url in ("http://hub.example:8080/api", "http://10.9.9.9:8080/api"):
        with pytest.raises(errors.InvalidRequestError, match="the hub itself"):
            policy("10.0.0.0/8", "hub.example").check_url(url)


def test_a_name_that_resolves_to_nothing_is_told_apart() -> None:
    with pytest.raises(UnresolvedHostError, match="resolves to no address"):
        policy().check_url("http://gone.example/")
