"""The project's request middleware."""

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
            sources.append(request.POST)
        for source in sources:
            for key, values in source.lists():
                if unsafe_characters(key) or any(unsafe_characters(v) for v in values):
                    return error_response(request, 400, "请求参数含有不允许的控制字符")
        return self.get_response(request)
