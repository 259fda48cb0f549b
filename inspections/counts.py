"""Today's inspections on a person's home page 首页: the sites of the person's open rounds not
yet inspected, the list at the top of 今日督查."""

from django.urls import reverse

from org.counts import Count

from .services import pending_sites


def home_counts(user) -> list[Count]:
    n = pending_sites(user).count()
    return [Count("今日待督查点位", n, reverse("inspections:index"))] if n else []
