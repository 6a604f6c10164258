"""Is an address this machine? golive sends traffic only to 127.0.0.0/8 and ::1 unless a
host is allowed by name (the webhook sender, load runs, the sandbox's deliveries and
admin routes, and the checks that judge an app's URLs all ask here)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def is_loopback_host(host: str | None) -> bool:
    """True for a loopback IP literal (an IPv4-mapped IPv6 one too), and for `localhost`
    and `*.localhost` names that resolve only to loopback. Any other name is False without
    a lookup: looking up an arbitrary name already sends it off the machine."""
    if not host:
        return False
    host = host.strip("[]").lower()
    try:
        return _loopback_ip(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host != "localhost" and not host.endswith(".localhost"):
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(_loopback_ip(ipaddress.ip_address(i[4][0])) for i in infos)


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is loopback (see is_loopback_host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(host)


def _loopback_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback
