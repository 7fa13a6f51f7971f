"""No server-side request forgery: webhooks go only to public addresses, and to the one checked.

A subscriber chooses the URL, so without a check the service could be made to POST into its
own network: a database admin port, a cloud metadata service at 169.254.169.254. A URL is
checked when it is subscribed and again before every attempt, since the name may resolve
elsewhere by then (DNS rebinding); the request then connects to the address just checked,
with the name kept for the `Host` header and TLS (SNI and certificate check).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.webhooks.settings import Network, WebhookSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeAddressError(ValueError):
    """The URL may not be called: its scheme, its form, or where its host resolves."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: where to connect, and what to call the host there."""

    scheme: str
    host: str
    port: int
    address: Address
    target: str  # the path and query

    @property
    def url(self) -> str:
        """The URL with the checked address in place of the name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{host}:{self.port}{self.target}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal keeps its brackets
        default = {"https": 443, "http": 80}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


def _allowed(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries, and leads to: mapped, 6to4, Teredo, NAT64,
    IPv4-compatible or -translated. A NAT64 gateway (as in cloud networks) would take a
    request for 64:ff9b::a9fe:a9fe to 169.254.169.254."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SITE_LOCAL:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not address.is_multicast


def check_url(url: str, settings: WebhookSettings) -> Destination:
    """Resolve `url`'s host and check every address it has; the first, to connect to.

    https only, unless every address is one the settings allow (tests, local development).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddressError(f"The URL cannot be read: {exc}.") from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise UnsafeAddressError("The URL must be an absolute https URL.")
    if parts.username or parts.password:
        raise UnsafeAddressError("The URL may not carry a user name or password.")
    port = port or (443 if scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeAddressError(f"The host {host} cannot be resolved.") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found))
    allowed = [address for address in addresses if _allowed(address, settings.allowed_networks)]
    if len(allowed) == len(addresses):
        pass  # every address explicitly allowed: http too
    elif scheme != "https":
        raise UnsafeAddressError("The URL must use https.")
    else:
        refused = [address for address in addresses if not _public(address) and address not in allowed]
        if refused:
            raise UnsafeAddressError(f"The host {host} resolves to an address that is not public ({refused[0]}).")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(scheme, host, port, addresses[0], target)
