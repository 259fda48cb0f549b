from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = "群众诉求"

    def ready(self) -> None:
        from . import guards  # noqa: F401  (connects the closing rule to the case loop)
