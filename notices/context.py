"""Template context processor: the signed-in person's unread notice count, for the menu."""

from .models import Receipt


def unread(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": Receipt.objects.filter(user=user, read_at__isnull=True).count()}
