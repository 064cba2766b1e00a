"""Where webhooks may send: URL rules, and the guard against server-side request forgery.

A webhook makes the hub send requests to a URL its owner chose, so the URL is checked twice:
when it is set (its form, and where its host resolves now) and before each delivery (where it
resolves then; the delivery connects to the address that was checked, so a name that resolves
elsewhere a moment later cannot redirect it). Refused by default: loopback, link-local (cloud
metadata services live there), unspecified, multicast and reserved addresses, and the hub's own
address. Private networks are allowed: in an air-gapped site, that is where CI runs. An
operator opens refused hosts or networks with the `webhook_allow` setting; the hub itself stays
refused. Redirects are never followed (a delivery sees the first answer).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from hubstead.server import errors

MAX_URL = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# Metadata services that do not live in a range refused as a whole.
_METADATA = (
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud
)


class UnresolvedHostError(errors.InvalidRequestError):
    """The URL's host does not resolve now.

    Refused when a URL is set; retried when a delivery meets it (name servers come back).
    """


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now, by the system's resolver.

    Raises:
        UnresolvedHostError: it resolves to nothing (or the resolver failed).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedHostError(f"Cannot resolve the webhook host {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclasses.dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        """The `Host` header the URL stands for."""
        return urlsplit(self.url).netloc


class TargetPolicy:
    """Checks webhook URLs against the refused ranges, the allow-list and the hub's address.

    Args:
        allow: host names, addresses and CIDR networks let through although refused by default.
        own: `(host, port)` pairs that reach this hub (its public URL, its listening address).
        resolver: how host names become addresses (the system's, unless a test gives one).
    """

    def __init__(
        self,
        allow: Sequence[str] = (),
        own: Sequence[tuple[str, int]] = (),
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._allowed_hosts = {a.lower() for a in allow if not _is_network(a)}
        self._allowed_networks = [
            ipaddress.ip_network(a, strict=False) for a in allow if _is_network(a)
        ]
        self._own = {(host.lower().strip("[]"), port) for host, port in own}
        self._resolve = resolver

    def check_url(self, url: str) -> Target:
        """Check a URL's form and where it resolves now; the target to deliver to.

        Raises:
            InvalidRequestError: not an absolute http(s) URL without credentials, too long, or
                a host that resolves to a refused address or to the hub itself.
            UnresolvedHostError: a host that resolves to nothing now.
        """
        if len(url) > MAX_URL:
            raise errors.InvalidRequestError(f"A webhook URL has at most {MAX_URL} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise errors.InvalidRequestError(f"{url!r} is not a valid URL: {exc}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.InvalidRequestError(
                f"A webhook URL must be an absolute http:// or https:// URL, not {url!r}"
            )
        if parts.username is not None or parts.password is not None:
            raise errors.InvalidRequestError(
                "A webhook URL cannot hold credentials; use the webhook's secret instead"
            )
        if any(c.isspace() or ord(c) < 32 for c in url):
            raise errors.InvalidRequestError(
                "A webhook URL cannot hold spaces or control characters"
            )
        host = parts.hostname.lower()
        port = port or (443 if parts.scheme == "https" else 80)
        addresses = self._resolve(host, port)
        if not addresses:
            raise UnresolvedHostError(f"The webhook host {host!r} resolves to no address")
        for address in addresses:
            self._check_address(host, port, address)
        return Target(url, parts.scheme, host, port, addresses[0])

    def _check_address(self, host: str, port: int, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if (host, port) in self._own or (str(ip), port) in self._own:
            raise errors.InvalidRequestError(
                f"A webhook cannot call the hub itself ({host}:{port})"
            )
        if not _refused(ip) or self._allowed(host, ip):
            return
        raise errors.InvalidRequestError(
            f"A webhook cannot call {host} ({ip}): loopback, link-local, metadata and reserved "
            "addresses are refused; an operator can allow it with the webhook_allow setting"
        )

    def _allowed(self, host: str, ip: IpAddress) -> bool:
        return host in self._allowed_hosts or any(ip in net for net in self._allowed_networks)


def _refused(ip: IpAddress) -> bool:
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or any(ip in net for net in _METADATA)
    )


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True
