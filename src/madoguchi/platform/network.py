"""Client addresses and the office-network allowlist (seed 2(6)ア(エ)).

``MADOGUCHI_ALLOWED_NETWORKS`` maps a surface to CIDR ranges; a request to
that surface from any other address gets 403 before sessions, CSRF or any
view run. Surfaces not in the map (the public ones) are open.
"""

import ipaddress
import logging
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or, behind a TLS-terminating proxy, the header that proxy
    sets (``MADOGUCHI_CLIENT_IP_HEADER``, e.g. ``HTTP_X_FORWARDED_FOR``: its
    last entry is the address the proxy itself saw, the one a client cannot
    forge)."""
    header = getattr(settings, "MADOGUCHI_CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        return str(request.META[header]).split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


@cache
def _networks(ranges: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(r.strip(), strict=False) for r in ranges if r.strip())


def parse_networks(value: str) -> list[str]:
    ranges = [r.strip() for r in value.split(",") if r.strip()]
    _networks(tuple(ranges))  # fail at start-up on a typo, not at the first request
    return ranges


def address_allowed(address: str, ranges: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(ranges)))


class AllowlistMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        allowed: dict[str, list[str]] = getattr(settings, "MADOGUCHI_ALLOWED_NETWORKS", {})
        ranges = allowed.get(getattr(request, "surface", ""))
        if ranges is not None and not address_allowed(client_address(request), ranges):
            logger.warning("refused %s from %s", request.surface, client_address(request))  # type: ignore[attr-defined]
            return HttpResponseForbidden(
                "このページは庁内の端末からのみ利用できます。",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
