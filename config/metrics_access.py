"""Who may scrape `/metrics`: open by default (the demo), or restricted by settings.

- `METRICS_ALLOWED_NETWORKS`: CIDRs (`10.0.0.0/8,127.0.0.1/32`); a scraper whose address is inside one
  is let in.
- `METRICS_BEARER_TOKEN`: a scraper sending `Authorization: Bearer <token>` is let in.

With either set, anyone else gets 401 (a token is configured) or 403 as JSON. The address is the one
config.throttles.client_ip trusts (REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from functools import lru_cache, wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.throttles import client_ip


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _address_allowed(request: HttpRequest, spec: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(spec) if network.version == address.version)


def _token_allowed(request: HttpRequest, token: str) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    networks = tuple(getattr(settings, "METRICS_ALLOWED_NETWORKS", ()) or ())
    token = getattr(settings, "METRICS_BEARER_TOKEN", "") or ""
    if not networks and not token:
        return True
    return bool(networks and _address_allowed(request, networks)) or bool(token and _token_allowed(request, token))


def restrict_metrics(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if metrics_allowed(request):
            return view(request, *args, **kwargs)
        if getattr(settings, "METRICS_BEARER_TOKEN", ""):
            response = JsonResponse({"code": "not_authenticated", "detail": "Metrics need a bearer token."},
                                    status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return JsonResponse({"code": "permission_denied", "detail": "Metrics are not served to this address."},
                            status=403)

    return guarded
