"""Marketplace test helpers: a browser-like HTTP client with the session cookie, page parsing, QR decoding.

The client holds no API key: it signs in with a user token minted through the admin API, as a
platform would, and from then on carries only the marketplace's signed session cookie.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import zxingcpp

from tests.conftest import Stack


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class Page(HTMLParser):
    """Every element with its attributes (and direct text), and every form with its inputs."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html
        self.elements: list[Element] = []
        self.forms: list[Form] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        self._open.append(element)
        if tag == "form":
            self.forms.append(Form(element.attrs.get("action", "")))
        if tag == "input" and self.forms and "name" in element.attrs:
            self.forms[-1].fields[element.attrs["name"]] = element.attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text += data

    def all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def form_with(self, **fields: str) -> Form:
        found = [f for f in self.forms if all(f.fields.get(k) == v for k, v in fields.items())]
        assert len(found) == 1, (fields, self.forms)
        return found[0]


def availability(page: Page) -> dict[str, dict[str, bool]]:
    """slug → provider → available, as the catalog page marks its cards."""
    shown: dict[str, dict[str, bool]] = {}
    slug = None
    for element in page.elements:
        if element.tag == "article" and "data-slug" in element.attrs:
            slug = element.attrs["data-slug"]
            shown[slug] = {}
        elif slug is not None and "data-provider" in element.attrs:
            shown[slug][element.attrs["data-provider"]] = element.attrs["data-available"] == "true"
    return shown


async def mint_user_token(http: httpx.AsyncClient, stack: Stack, user_id: str) -> str:
    response = await http.post(f"{stack.gateway_url}/v1/users/{user_id}/tokens", json={})
    assert response.status_code in (200, 201), response.text
    token: str = response.json()["token"]
    return token


@asynccontextmanager
async def browser(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client without any API key, following no redirects (tests read them)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/market/sign-in", data={"token": token, "next": "/market/me"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/market/me"


def decode_qr_svg(svg: str) -> str | None:
    """Rasterise segno's SVG (one path of horizontal runs) and read it back with ZXing."""
    modules = int(_match(r'viewBox="0 0 (\d+) \d+"', svg))  # one unit per module
    grid = [[255] * modules for _ in range(modules)]
    x = y = 0.0
    for command, a, b in re.findall(
        r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", _match(r'class="qrline"[^>]* d="([^"]+)"', svg)
    ):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                grid[int(y)][column] = 0
            x += float(a)
    pixels_per_module = 4
    raster = bytearray()
    for row in grid:
        raster += bytes(v for v in row for _ in range(pixels_per_module)) * pixels_per_module
    side = modules * pixels_per_module
    found = zxingcpp.read_barcode(memoryview(bytes(raster)).cast("B", shape=[side, side]))
    return found.text if found else None


def qr_svgs(html: str) -> dict[str, str]:
    """figure id → the inline SVG inside it."""
    return dict(re.findall(r'<figure class="qr" id="([^"]+)">\s*(<svg.*?</svg>)', html, flags=re.S))


def _match(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found, pattern
    return found.group(1)
