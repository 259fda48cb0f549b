"""The project's request middleware."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.multipartparser import MultiPartParserError

from org.text import unsafe_characters

from .errors import error_response

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseControlCharacters:
    """Answer 400 to a request whose query string or form fields hold a NUL byte or another control
    character (e.g. a list's ``q=%00``), before any view turns them into a database query, in the
    error form of the interface asked (API, Open311, page). JSON bodies are checked where they are
    stored (``org.text``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                sources.append(request.POST)
            except MultiPartParserError:
                # A form body that cannot be read (e.g. multipart without a boundary).
                return error_response(request, 400, "请求体无法解析，请检查内容类型与格式")
        for source in sources:
            for key, values in source.lists():
                if unsafe_characters(key) or any(unsafe_characters(v) for v in values):
                    return error_response(request, 400, "请求参数含有不允许的控制字符")
        return self.get_response(request)


class ContentSecurityPolicy:
    """Send ``settings.CSP_DIRECTIVES`` as the Content-Security-Policy header of every response.

    A small middleware rather than a library: the policy is one static header (every script and
    style is a file under /static/, data travels in ``json_script`` blocks and data attributes, so
    no nonces are needed). The one moving part is the map tiles' origin, added to ``img-src``
    from ``MAP_TILE_URL`` (a ``{s}`` subdomain placeholder becomes a ``*.`` wildcard)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy()
        return response


def tile_origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname and "{" not in parts.netloc:
        return None
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}"


def policy() -> str:
    directives = {name: list(values) for name, values in settings.CSP_DIRECTIVES.items()}
    origin = tile_origin(settings.MAP_TILE_URL) if settings.MAP_TILE_URL else None
    if origin:
        directives.setdefault("img-src", []).append(origin)
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
