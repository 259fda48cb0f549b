"""End to end: every demo login (and a visitor) walks the whole site by its links.

It walks the shared demo world (``demo_world`` in the root conftest), inside a transaction that is
rolled back after the last test on it, so other tests never see it. Each role then follows every internal link breadth first (GET
only) and every page must answer without a server error, speak Chinese, carry a title, and protect
its forms with a CSRF token; refusals are the site's own 403/404 pages; XLSX exports open.
"""

import io
import os
import re
import time
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

import openpyxl
import pytest
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve

from cases.models import Case, CasePart
from org.demo import DEMO_LOGINS
from org.models import User

MAX_PAGES = 150  # per role
SAMPLES_PER_PATTERN = 1  # e.g. one case detail, not all of them
VARIANTS_PER_ROUTE = 2  # e.g. the case list with two different sets of filters
SKIP_PREFIXES = ("/logout/", "/admin/", "/api/", "/static/", "/media/", "/open311/")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Pages with a known bug that another engineer is fixing; each entry names the bug. The crawl still
# visits every other page. Keys are (role or "*", URL route).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


class Page(HTMLParser):
    """The links, title and forms of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.html_lang: str | None = None
        self.title = ""
        self._in_title = False
        self.forms: list[dict] = []  # {"method", "action", "csrf"}
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action"),
                "csrf": False,
            }
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs.get("name") == "csrfmiddlewaretoken":
            self._form["csrf"] = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def pattern_of(url: str) -> str | None:
    """The URL's route plus its non-numeric arguments and query keys: one crawl bucket."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    args = sorted(f"{k}={v}" for k, v in match.kwargs.items() if not str(v).isdigit())
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"})
    page = "page" if "page=" in parts.query else ""
    return f"{match.route}|{','.join(args)}|{','.join(keys)}|{page}"


def internal(href: str, base: str) -> str | None:
    href = urldefrag(href.strip())[0]
    if not href or href.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        if parts.netloc not in ("testserver", ""):
            return None
        href = parts.path + (f"?{parts.query}" if parts.query else "")
    if not href.startswith("/"):
        if href.startswith("?"):
            href = urlsplit(base).path + href
        else:
            href = urlsplit(base).path.rsplit("/", 1)[0] + "/" + href
    if href.startswith(SKIP_PREFIXES):
        return None
    return href


def refusal_ok(response) -> bool:
    """A deliberate refusal: our own Chinese 403/404 page, never a traceback."""
    body = response.content.decode(errors="replace")
    if response.status_code == 403:
        return "无权访问" in body or "CSRF" not in body and "<h1>" in body and "Traceback" not in body
    if response.status_code == 404:
        return "页面不存在" in body
    return False


def crawl(client: Client, role: str) -> tuple[list[str], Counter]:
    """Walk the site from the home page; return the problems found and the status counts."""
    problems: list[str] = []
    statuses: Counter = Counter()
    queue = deque([("/", "(start)")])
    seen: set[str] = {"/"}
    buckets: Counter = Counter()
    routes: Counter = Counter()
    visited = 0
    while queue and visited < MAX_PAGES:
        url, referrer = queue.popleft()
        pattern = pattern_of(url)
        if pattern is not None:
            route = pattern.split("|", 1)[0]
            if (role, route) in KNOWN_BUGS or ("*", route) in KNOWN_BUGS:
                continue
            buckets[pattern] += 1
            if buckets[pattern] > SAMPLES_PER_PATTERN:
                continue
            routes[route] += 1
            if routes[route] > VARIANTS_PER_ROUTE:
                continue
        visited += 1
        started = time.monotonic()
        response = client.get(url)
        if os.environ.get("CRAWL_TRACE"):
            print(f"{role} {response.status_code} {time.monotonic() - started:.2f}s {url}")
        statuses[response.status_code] += 1
        where = f"[{role}] GET {url} (linked from {referrer})"
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            detail = f"{exc[0].__name__}: {exc[1]}" if exc else response.content[:200]
            problems.append(f"{where} -> {response.status_code} {detail!r}")
            continue
        if 400 <= response.status_code < 500:
            if not refusal_ok(response):
                problems.append(f"{where} -> {response.status_code} without our Chinese error page")
            elif response.status_code == 403 and referrer != "(start)":
                problems.append(f"{where} -> 403: the page offers a link its reader may not follow")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = internal(response["Location"], url)
            if target and target not in seen:
                seen.add(target)
                queue.append((target, url))
            continue
        content_type = response.get("Content-Type", "")
        if content_type.startswith(XLSX):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            try:
                openpyxl.load_workbook(io.BytesIO(body), read_only=True).close()
            except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
                problems.append(f"{where} -> XLSX does not open: {exc!r}")
            statuses["xlsx"] += 1
            continue
        if not content_type.startswith("text/html"):
            if urlsplit(url).path.endswith(".xlsx"):
                problems.append(f"{where} -> export answered {content_type!r}, not XLSX")
            continue
        body = response.content.decode()
        page = Page()
        page.feed(body)
        if page.html_lang != "zh-Hans":
            problems.append(f'{where} -> <html lang="{page.html_lang}">, expected zh-Hans')
        if not page.title.strip():
            problems.append(f"{where} -> no <title>")
        for form in page.forms:
            if form["method"] == "post" and not form["csrf"]:
                problems.append(f"{where} -> POST form to {form['action']!r} without a CSRF token")
        for href in page.links:
            target = internal(href, url)
            if target and target not in seen:
                seen.add(target)
                queue.append((target, url))
    return problems, statuses


ROLES = [login[0] for login in DEMO_LOGINS]


@pytest.mark.parametrize("username", ROLES)
def test_every_role_walks_the_site_without_errors(demo_world, db, settings, username):
    settings.MEDIA_ROOT = demo_world  # the demo's photos and evidence files
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username), backend=settings.AUTHENTICATION_BACKENDS[-1])
    problems, statuses = crawl(client, username)
    assert not problems, "\n".join(problems)
    assert statuses[200] >= 3, f"{username} reached only {dict(statuses)}"
    if username in ("hq", "dispatcher"):
        assert statuses["xlsx"] >= 1, "the exports were not reached"


def test_a_visitor_walks_the_public_pages_without_errors(demo_world, db, settings):
    settings.MEDIA_ROOT = demo_world
    client = Client(raise_request_exception=False)
    problems, statuses = crawl(client, "anonymous")
    problems += crawl_from(client, "anonymous", "/appeal/")
    assert not problems, "\n".join(problems)


def crawl_from(client: Client, role: str, start: str) -> list[str]:
    response = client.get(start)
    if response.status_code != 200:
        return [f"[{role}] GET {start} -> {response.status_code}"]
    page = Page()
    page.feed(response.content.decode())
    problems = []
    if page.html_lang != "zh-Hans" or not page.title.strip():
        problems.append(f"[{role}] GET {start} -> lang {page.html_lang!r}, title {page.title!r}")
    for href in page.links:
        target = internal(href, start)
        if target and client.get(target).status_code >= 500:
            problems.append(f"[{role}] GET {target} (linked from {start}) -> 5xx")
    return problems


STAFF_PAGES = [
    "/",
    "/cases/",
    "/cases/queue/dispatch/",
    "/cases/queue/unit/",
    "/cases/summary/",
    "/appeals/",
    "/indicators/",
    "/org/units/",
    "/org/tokens/",
]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_visitor_is_sent_to_login_from_staff_pages(demo_world, db, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def refused(response) -> bool:
    if response.status_code in (403, 404):
        return refusal_ok(response)
    return response.status_code == 302 and response["Location"].startswith("/login/")


def login(client: Client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[-1])
    return user


def test_a_handler_cannot_open_another_units_case(demo_world, db, client):
    handler = login(client, "handler")
    mine = Case.objects.visible_to(handler)
    other = Case.objects.exclude(pk__in=mine.values("pk")).exclude(
        pk__in=CasePart.objects.filter(unit__memberships__user=handler).values("case")
    )
    assert other.exists() and mine.exists()
    assert client.get(f"/cases/{mine.first().pk}/").status_code == 200
    for case in other[:3]:
        assert refused(client.get(f"/cases/{case.pk}/")), case.number


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("collector", "/cases/queue/dispatch/"),
        ("collector", "/cases/queue/verify/"),
        ("volunteer", "/cases/queue/dispatch/"),
        ("volunteer", "/org/import/"),
        ("handler", "/cases/queue/dispatch/"),
        ("community", "/org/import/"),
        ("leader", "/org/import/?download=1"),
        ("clerk", "/cases/queue/dispatch/"),
        ("streetchief", "/indicators/assign/"),
        ("inspector", "/cases/queue/unit/"),
    ],
)
def test_roles_are_refused_pages_outside_their_work(demo_world, db, client, username, url):
    login(client, username)
    response = client.get(url)
    assert refused(response), f"{username} GET {url} -> {response.status_code}"


def test_crawl_helpers_bucket_and_resolve_links():
    assert pattern_of("/cases/1/") == pattern_of("/cases/2/")
    assert pattern_of("/cases/1/accept/") != pattern_of("/cases/1/reject/")
    assert pattern_of("/cases/?status=new") != pattern_of("/cases/")
    assert internal("http://example.com/x", "/") is None
    assert internal("/logout/", "/") is None
    assert internal("?page=2", "/cases/") == "/cases/?page=2"
    assert internal("#top", "/") is None
    assert re.match(r"^/cases/", internal("http://testserver/cases/#x", "/"))
