"""SSRF guard: which URLs may be requested, and how fetch_public reaches them."""

from __future__ import annotations

import socket

import pytest

from tests.local_http import LocalHTTPServer
from videogen.netguard import FetchFailed, UnsafeURL, check_public_url, fetch_public

REFUSED_ADDRESSES = {
    "loopback v4": "http://127.0.0.1/hook",
    "loopback v4 elsewhere in 127/8": "http://127.8.9.10/hook",
    "loopback v4 as a decimal number": "http://2130706433/hook",
    "loopback v4 in hex": "http://0x7f000001/hook",
    "loopback v6": "http://[::1]/hook",
    "private 10/8": "http://10.1.2.3/hook",
    "private 172.16/12": "http://172.20.0.5/hook",
    "private 192.168/16": "http://192.168.1.1/hook",
    "link-local v4": "http://169.254.10.10/hook",
    "cloud metadata v4": "http://169.254.169.254/latest/meta-data/",
    "cloud metadata v6 (AWS)": "http://[fd00:ec2::254]/latest/meta-data/",
    "link-local v6": "http://[fe80::1]/hook",
    "unique local v6": "http://[fc00::1]/hook",
    "unique local v6 (fd)": "http://[fd12:3456::1]/hook",
    "multicast v4": "http://224.0.0.1/hook",
    "multicast v6": "http://[ff02::1]/hook",
    "reserved v4 (240/4)": "http://240.0.0.1/hook",
    "broadcast": "http://255.255.255.255/hook",
    "unspecified v4": "http://0.0.0.0/hook",
    "unspecified v6": "http://[::]/hook",
    "this network 0/8": "http://0.1.2.3/hook",
    "CGNAT 100.64/10": "http://100.64.0.1/hook",
    "CGNAT upper end": "http://100.127.255.254/hook",
    "IPv4-mapped loopback": "http://[::ffff:127.0.0.1]/hook",
    "IPv4-mapped private": "http://[::ffff:10.0.0.1]/hook",
    "IPv4-mapped metadata": "http://[::ffff:169.254.169.254]/hook",
    "IPv4-compatible loopback": "http://[::127.0.0.1]/hook",
    "6to4 wrapping loopback": "http://[2002:7f00:1::1]/hook",
    "NAT64 wrapping private": "http://[64:ff9b::a00:1]/hook",
    "localhost name": "http://localhost/hook",
    "GCP metadata name": "http://metadata.google.internal/computeMetadata/v1/",
}


@pytest.mark.parametrize("url", REFUSED_ADDRESSES.values(), ids=REFUSED_ADDRESSES.keys())
def test_non_public_addresses_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_public_url(url, allowed_hosts=())


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hook", "http://[2606:4700:4700::1111]/x", "https://1.1.1.1:8443/a?b=c"]
)
def test_public_addresses_are_accepted(url):
    check_public_url(url, allowed_hosts=())


@pytest.mark.parametrize(
    "url",
    ["ftp://8.8.8.8/x", "file:///etc/passwd", "gopher://8.8.8.8/", "javascript:alert(1)", "//8.8.8.8/x", "8.8.8.8"],
)
def test_only_http_and_https_schemes_are_accepted(url):
    with pytest.raises(UnsafeURL):
        check_public_url(url, allowed_hosts=())


def test_require_https_refuses_plain_http():
    check_public_url("http://8.8.8.8/hook", allowed_hosts=())
    with pytest.raises(UnsafeURL, match="https"):
        check_public_url("http://8.8.8.8/hook", allowed_hosts=(), require_https=True)
    check_public_url("https://8.8.8.8/hook", allowed_hosts=(), require_https=True)


@pytest.mark.parametrize("url", ["http://", "http:///path", "http://exa mple.com/", "http://[::1/", "http://a:99999/"])
def test_malformed_urls_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_public_url(url, allowed_hosts=())


def test_a_name_is_refused_when_any_of_its_addresses_is_private(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(UnsafeURL):
        check_public_url("https://mixed.example/hook", allowed_hosts=())


def test_a_name_resolving_only_to_public_addresses_is_accepted(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    check_public_url("https://public.example/hook", allowed_hosts=())


def test_unresolvable_hosts_are_refused():
    with pytest.raises(UnsafeURL):
        check_public_url("https://does-not-exist.invalid/hook", allowed_hosts=())


def test_allowed_hosts_may_be_private():
    check_public_url("http://localhost/hook", allowed_hosts=["localhost"])
    check_public_url("http://127.0.0.1:9000/hook", allowed_hosts=["127.0.0.1"])
    with pytest.raises(UnsafeURL):
        check_public_url("http://127.0.0.1:9000/hook", allowed_hosts=["localhost"])


def test_allowed_hosts_default_to_the_setting(settings):
    settings.CALLBACK_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURL):
        check_public_url("http://localhost/hook")
    settings.CALLBACK_ALLOWED_HOSTS = ["LocalHost"]
    check_public_url("http://localhost/hook")


# --- fetch_public against a real local server ------------------------------------------------


def _routes(path):
    if path == "/logo.png":
        return 200, {"Content-Type": "image/png", "Content-Length": "5"}, b"PNG!!"
    if path == "/big":
        return 200, {"Content-Type": "application/octet-stream"}, b"x" * 5000  # no Content-Length
    if path == "/big-declared":
        return 200, {"Content-Length": "5000"}, b"x" * 5000
    if path == "/to-logo":
        return 302, {"Location": "/logo.png", "Content-Length": "0"}, b""
    if path.startswith("/to?"):
        return 302, {"Location": path.split("?", 1)[1], "Content-Length": "0"}, b""
    return 404, {"Content-Length": "0"}, b""


def test_fetch_public_returns_the_body_from_an_allowed_host():
    with LocalHTTPServer(_routes) as server:
        body = fetch_public(
            f"http://localhost:{server.port}/logo.png", max_bytes=100, timeout=5, allowed_hosts=["localhost"]
        )
    assert body == b"PNG!!"


def test_fetch_public_refuses_a_loopback_host_that_is_not_allowed():
    with LocalHTTPServer(_routes) as server:
        with pytest.raises(UnsafeURL):
            fetch_public(f"http://127.0.0.1:{server.port}/logo.png", max_bytes=100, timeout=5, allowed_hosts=())
    assert server.requests == []


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_fetch_public_stops_past_max_bytes(path):
    with LocalHTTPServer(_routes) as server:
        with pytest.raises(FetchFailed, match="larger"):
            fetch_public(
                f"http://localhost:{server.port}{path}", max_bytes=1000, timeout=5, allowed_hosts=["localhost"]
            )


def test_fetch_public_follows_redirects_within_vetted_hosts():
    with LocalHTTPServer(_routes) as server:
        body = fetch_public(
            f"http://localhost:{server.port}/to-logo", max_bytes=100, timeout=5, allowed_hosts=["localhost"]
        )
    assert body == b"PNG!!"
    assert [r["path"] for r in server.requests] == ["/to-logo", "/logo.png"]


def test_fetch_public_does_not_follow_a_redirect_to_an_unvetted_host():
    with LocalHTTPServer(_routes) as server:
        target = f"http://127.0.0.1:{server.port}/logo.png"  # same server, but not an allowed host name
        with pytest.raises(UnsafeURL):
            fetch_public(
                f"http://localhost:{server.port}/to?{target}", max_bytes=100, timeout=5, allowed_hosts=["localhost"]
            )
    assert [r["path"] for r in server.requests] == [f"/to?{target}"]


def test_fetch_public_does_not_follow_a_redirect_to_cloud_metadata():
    with LocalHTTPServer(_routes) as server:
        with pytest.raises(UnsafeURL):
            fetch_public(
                f"http://localhost:{server.port}/to?http://169.254.169.254/latest/meta-data/",
                max_bytes=100,
                timeout=5,
                allowed_hosts=["localhost"],
            )


def test_fetch_public_connects_to_the_address_it_vetted_and_keeps_the_host_header(monkeypatch):
    """DNS rebinding: a second lookup would answer a different (unreachable) address; the name is
    resolved once and the connection goes to the vetted address, with the original Host header."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.255.255.1", "10.255.255.1"])
    lookups = []

    def rebinding_resolver(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    with LocalHTTPServer(_routes) as server:
        body = fetch_public(
            f"http://rebind.example:{server.port}/logo.png", max_bytes=100, timeout=5, allowed_hosts=["rebind.example"]
        )
    assert body == b"PNG!!"
    assert lookups == ["rebind.example"]
    assert server.requests[0]["host"] == f"rebind.example:{server.port}"


def test_fetch_public_reports_http_errors():
    with LocalHTTPServer(_routes) as server:
        with pytest.raises(FetchFailed, match="404"):
            fetch_public(
                f"http://localhost:{server.port}/missing", max_bytes=100, timeout=5, allowed_hosts=["localhost"]
            )
