"""Which network addresses the server may send webhooks to, and the URLs that name them.

A webhook URL is a way to make the server send requests somewhere: pointed at a cloud's metadata service
(169.254.169.254 and its kin) it would hand out the machine's credentials, pointed at the loopback or the
private network it would reach services never meant to be public. So link-local and metadata addresses are
always refused, as are unspecified, multicast and reserved ones; loopback, private and shared (CGNAT) ones
only with ``CHATBOT_WEBHOOK_ALLOW_PRIVATE`` (tests, intranets). The check runs on every address a host name
resolves to, at every delivery (``integrations/webhooks.py``), so a name that resolves to a public address at
start-up and to a private one later (DNS rebinding) is refused then.

Tested in tests/test_webhooks.py, tests/test_config.py.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
    "169.254.170.2",  # AWS ECS task credentials
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud (classic)
))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in all but name


def refusal(address: Address, allow_private: bool) -> str | None:
    """Why the server must not send to ``address``, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address.is_multicast:
        return "not a unicast address"
    if address.is_loopback or address.is_private or address in SHARED:
        return None if allow_private else "a loopback or private address (CHATBOT_WEBHOOK_ALLOW_PRIVATE=true allows it)"
    if address.is_reserved:
        return "a reserved address"
    return None


def literal(host: str) -> Address | None:
    """The address a URL's host names outright (``127.0.0.1``, ``[::1]``), or None for a host name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_refusal(host: str, allow_private: bool) -> str | None:
    """Why a URL's host is refused when it is an address outright; None for an allowed one or a host name (the
    resolver checks what a name resolves to)."""
    address = literal(host)
    return None if address is None else refusal(address, allow_private)


def webhook_url(value: str) -> str:
    """One webhook URL: http or https, a host, no user name or password in it, no fragment."""
    expected = "expected http(s)://HOST[:PORT]/PATH, comma-separated for several"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or port == 0:
        raise ValueError(expected)
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{expected}; put no credentials in the URL (requests are signed)")
    reason = host_refusal(parts.hostname, allow_private=True)
    if reason is not None:
        raise ValueError(f"{parts.hostname} is {reason}, which webhooks may never reach")
    return value


def webhook_urls(value: str) -> tuple[str, ...]:
    """Comma-separated webhook URLs, each checked; an empty value is none."""
    urls = tuple(part.strip() for part in value.split(",") if part.strip())
    for url in urls:
        try:
            webhook_url(url)
        except ValueError as exc:
            raise ValueError(f"{url!r}: {exc}") from None
    if len(set(urls)) != len(urls):
        raise ValueError("a URL is listed twice")
    return urls
