"""Outbound HTTP to user-supplied URLs without server-side request forgery.

A URL supplied by a tenant (a callback, a logo) may only reach the public internet: every address its
host resolves to must be public (no loopback, private, link-local, CGNAT, multicast, reserved or
unspecified ranges, no IPv6 ULA, no IPv4 hidden in IPv6, no cloud metadata endpoint), unless ops list
the host in `CALLBACK_ALLOWED_HOSTS`.

`fetch_public` connects to the exact address that was vetted (the name is resolved once, so a DNS
answer that changes between the check and the connection cannot redirect the request inwards), keeps
the original Host header and TLS server name, vets every redirect hop again, and stops reading past
`max_bytes`.

Domain code: no DRF here. Callers turn `UnsafeURL` into their own 400.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

__all__ = ["UnsafeURL", "UnresolvableHost", "FetchFailed", "check_public_url", "fetch_public", "is_public_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
# Ranges Python's flags do not all cover on 3.11 (CGNAT is neither private nor global there).
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "64:ff9b:1::/48",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_REDIRECTS = 3


class UnsafeURL(ValueError):
    """The URL may not be requested: wrong scheme, or a host that is not on the public internet."""


class UnresolvableHost(UnsafeURL):
    """The host has no address right now. Refused for a fetch; a check at save time may accept it, since
    every fetch resolves and vets the host again."""


class FetchFailed(Exception):
    """The URL was safe to request but the fetch did not produce a usable body."""


@dataclass(frozen=True)
class VettedURL:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # path plus query, as sent on the request line
    addresses: tuple[str, ...]  # resolved once; connections go to these and nowhere else


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated) ::a.b.c.d
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address that is no cloud metadata endpoint."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    if address in METADATA_ADDRESSES:
        return False
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return False
    return not any(address in net for net in _BLOCKED_NETWORKS if net.version == address.version)


def _normalise_allowed(allowed_hosts: Iterable[str] | None) -> set[str]:
    if allowed_hosts is None:
        allowed_hosts = getattr(settings, "CALLBACK_ALLOWED_HOSTS", ())
    return {host.strip().lower().rstrip(".") for host in allowed_hosts if host and host.strip()}


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnresolvableHost(f"The host {host!r} could not be resolved.") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise UnresolvableHost(f"The host {host!r} could not be resolved.")
    return tuple(addresses)


def vet_url(url: str, *, allowed_hosts: Iterable[str] | None = None, require_https: bool = False) -> VettedURL:
    """Checks `url` and returns it with the addresses it may be fetched from (resolved once)."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise UnsafeURL("Enter a valid URL.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeURL("Enter a valid URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("Enter a valid URL.") from exc
    scheme = parts.scheme.lower()
    allowed_schemes = {"https"} if require_https else {"http", "https"}
    if scheme not in allowed_schemes:
        raise UnsafeURL("Only https URLs are accepted." if require_https else "Only http and https URLs are accepted.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURL("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"

    allowed = _normalise_allowed(allowed_hosts)
    if host in allowed or f"{host}:{port}" in allowed:
        return VettedURL(url, scheme, host, port, path, _resolve(host, port))
    if host in METADATA_HOSTS:
        raise UnsafeURL("The URL points at a cloud metadata service.")
    addresses = _resolve(host, port)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if "%" in text or not is_public_address(address):
            raise UnsafeURL("The URL resolves to an address that is not on the public internet.")
    return VettedURL(url, scheme, host, port, path, addresses)


def check_public_url(url: str, *, allowed_hosts: Iterable[str] | None = None, require_https: bool = False) -> None:
    """Raises UnsafeURL unless `url` is http(s) (https only with `require_https`) and every address its
    host resolves to is public, or the host is listed in `allowed_hosts` (default:
    settings.CALLBACK_ALLOWED_HOSTS)."""
    vet_url(url, allowed_hosts=allowed_hosts, require_https=require_https)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a vetted address; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a vetted address, with SNI and certificate checks against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _open(
    vetted: VettedURL, timeout: float, headers: dict[str, str]
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    last_error: Exception | None = None
    for address in vetted.addresses:
        if vetted.scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
                vetted.host, vetted.port, address, timeout, ssl.create_default_context()
            )
        else:
            conn = _PinnedHTTPConnection(vetted.host, vetted.port, address, timeout)
        try:
            conn.request("GET", vetted.path, headers=headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            last_error = exc
    raise FetchFailed(f"Could not fetch {vetted.host}: {last_error}") from last_error


def _read_limited(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchFailed(f"The response is larger than {max_bytes} bytes.")
    chunks: list[bytes] = []
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchFailed("The download took too long.")
        chunk = response.read(min(65536, max_bytes + 1 - received))
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > max_bytes:
            raise FetchFailed(f"The response is larger than {max_bytes} bytes.")
        chunks.append(chunk)


def fetch_public(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allowed_hosts: Iterable[str] | None = None,
    require_https: bool = False,
) -> bytes:
    """GETs a public URL and returns its body (at most `max_bytes`, within `timeout` seconds overall).

    Redirects are followed (up to 3) only to URLs that pass the same checks; an https URL never
    redirects to plain http. Raises UnsafeURL for a refused URL, FetchFailed for anything else.
    """
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": "videogen/2 (+fetch_public)", "Accept": "*/*", "Accept-Encoding": "identity"}
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        vetted = vet_url(current, allowed_hosts=allowed_hosts, require_https=require_https)
        remaining = max(0.1, deadline - time.monotonic())
        conn, response = _open(vetted, remaining, headers)
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchFailed("A redirect without a Location.")
                current = urljoin(vetted.url, location)
                if vetted.scheme == "https":
                    require_https = True  # no downgrade on the way
                continue
            if response.status != 200:
                raise FetchFailed(f"The server answered HTTP {response.status}.")
            try:
                return _read_limited(response, max_bytes, deadline)
            except (OSError, http.client.HTTPException) as exc:
                raise FetchFailed(f"The download failed: {exc}") from exc
        finally:
            conn.close()
    raise FetchFailed("Too many redirects.")
