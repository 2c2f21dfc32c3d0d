"""Fetching the clinic's pages politely and safely: robots.txt obeyed, the given origins only, everything bounded.

An import runs against a site we do not control, so each request is bounded
(bytes, redirects, seconds), redirects are followed by hand so that each hop is
checked (same origin, allowed by robots.txt), and every refusal is a
``FetchError`` whose message an admin can act on. robots.txt is read once per
origin with Protego (Scrapy's parser: longest match, wildcards, RFC 9309); a
robots.txt that is missing (4xx) allows everything, one that fails (5xx,
unreachable) allows nothing, as RFC 9309 says.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp
from protego import Protego

USER_AGENT = "clinic-chatbot-content-import"
HTML_TYPES = ("text/html", "application/xhtml+xml")
XML_TYPES = ("application/xml", "text/xml")


class FetchError(Exception):
    """A URL that could not be imported; the message says why, in one line."""


@dataclass(frozen=True)
class Limits:
    """What one import may cost: pages, bytes per response, redirects per request, seconds per request and in all."""

    pages: int = 500
    bytes: int = 5_000_000
    redirects: int = 5
    seconds: float = 20.0
    total_seconds: float = 600.0


@dataclass(frozen=True)
class Response:
    """A fetched body: the URL it finally came from, its media type, and its text."""

    url: str
    media_type: str
    text: str


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, the unit robots.txt and the same-origin rule work on."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Fetcher:
    """An HTTP client bound to the import's origins, its limits and each origin's robots.txt."""

    def __init__(self, origins: set[str], limits: Limits) -> None:
        self.origins = origins
        self.limits = limits
        self._robots: dict[str, Protego | None] = {}
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        timeout = aiohttp.ClientTimeout(total=self.limits.seconds)
        self._http = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._http is not None:
            await self._http.close()

    async def get(self, url: str, media_types: tuple[str, ...]) -> Response:
        """The body at ``url`` (after checked redirects) if its type is one of ``media_types``; else ``FetchError``."""
        for _ in range(self.limits.redirects + 1):
            await self._check_allowed(url)
            status, media_type, location, text = await self._request(url, media_types)
            if location is None:
                if status != 200:
                    raise FetchError(f"HTTP {status}")
                return Response(url, media_type, text)
            target = urljoin(url, location)
            if origin(target) not in self.origins:
                raise FetchError(f"redirected off the site to {target} (only {', '.join(sorted(self.origins))})")
            url = target
        raise FetchError(f"more than {self.limits.redirects} redirects")

    async def _check_allowed(self, url: str) -> None:
        """Refuse a URL of another origin or one that robots.txt disallows."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError("not an http(s) URL")
        if origin(url) not in self.origins:
            raise FetchError(f"off the site (only {', '.join(sorted(self.origins))})")
        rules = await self._robots_for(origin(url))
        if rules is None or not rules.can_fetch(url, USER_AGENT):
            raise FetchError("disallowed by robots.txt")

    async def _robots_for(self, site: str) -> Protego | None:
        """The origin's robots.txt rules (allow-all when it has none); None when it fails (allow nothing).

        ``FetchError`` when the origin cannot be reached at all: that, not robots.txt, is why nothing is fetched.
        """
        if site not in self._robots:
            status, _, _, text = await self._request(f"{site}/robots.txt", ("text/plain",), lenient=True)
            if 400 <= status < 500:
                text = ""
            self._robots[site] = Protego.parse(text) if status < 500 else None
        return self._robots[site]

    async def _request(self, url: str, media_types: tuple[str, ...], lenient: bool = False
                       ) -> tuple[int, str, str | None, str]:
        """One GET without following redirects: status, media type, ``Location`` (a redirect) and the body."""
        assert self._http is not None, "use the fetcher as an async context manager"
        try:
            async with self._http.get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    return response.status, "", response.headers.get("Location", ""), ""
                media_type = response.content_type.lower()
                if response.status == 200 and not lenient and media_type not in media_types:
                    raise FetchError(f"not {' or '.join(media_types)} (the server says {media_type})")
                if response.status != 200:
                    return response.status, media_type, None, ""
                body = await self._read(response)
                return response.status, media_type, None, body.decode(response.charset or "utf-8", "replace")
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"unreachable ({type(exc).__name__}: {exc})") from None
        except TimeoutError:
            raise FetchError(f"no answer within {self.limits.seconds:g} s") from None
        except LookupError:  # an unknown charset
            raise FetchError("the page's character set is unknown") from None

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused as soon as it is larger than the limit (announced or not)."""
        limit = self.limits.bytes
        if response.content_length is not None and response.content_length > limit:
            raise FetchError(f"larger than {limit:,} bytes ({response.content_length:,})")
        body = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            body += chunk
            if len(body) > limit:
                raise FetchError(f"larger than {limit:,} bytes")
        return bytes(body)

