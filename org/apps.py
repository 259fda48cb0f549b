from django.apps import AppConfig
from django.db.models.signals import pre_save


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "组织与责任"

    def ready(self) -> None:
        from .text import refuse_unsafe_text

        # Every model of every app: no text PostgreSQL would refuse reaches the database.
        pre_save.connect(refuse_unsafe_text, dispatch_uid="org.text.refuse_unsafe_text")
