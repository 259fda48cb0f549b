from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = "群众诉求"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cases.models import Category
        from cases.services import register_close_guard

        from .guards import follow_up_before_closing
        from .models import ServiceAttribute
        from .open311 import forget_services

        register_close_guard(follow_up_before_closing)
        # Open311's cached service catalogue goes as soon as a category or an attribute changes.
        for model in (Category, ServiceAttribute):
            post_save.connect(
                forget_services, sender=model, dispatch_uid=f"open311-services-{model.__name__}"
            )
            post_delete.connect(
                forget_services, sender=model, dispatch_uid=f"open311-services-del-{model.__name__}"
            )
