"""A count on a person's home page 首页待办数: a label, a number and the list it opens.

Each app answers ``home_counts(user) -> list[Count]`` from its own list's queryset or filter, so
the number equals the length of the list the link opens; the project's home page only gathers
them (apps never import the project package)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Count:
    label: str
    n: int
    url: str
    # "danger" (overdue, red), "warning" (due soon, yellow) or "" (plain work to do).
    tone: str = ""
    # A figure shown instead of ``n`` (a rate such as "92.5%"); ``n`` is then its denominator.
    text: str = ""
    # The change against the previous period ("较上月 +3.2 个百分点"), for headline figures.
    change: str = ""
