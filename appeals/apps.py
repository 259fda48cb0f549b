from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = "群众诉求"

    def ready(self) -> None:
        from cases.services import register_close_guard

        from .guards import follow_up_before_closing

        register_close_guard(follow_up_before_closing)
