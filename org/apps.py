from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import pre_save


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "组织与责任"

    def ready(self) -> None:
        from . import db, imports, xlsx
        from .models import Role
        from .scope import scope_for
        from .text import refuse_unsafe_text

        imports.register(
            imports.Importer(
                kind="org",
                label="组织架构",
                run=xlsx.import_job,
                may_import=lambda user: user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN),
                previews=True,
                back_url="org:import",
            )
        )

        # Every model of every app: no text PostgreSQL would refuse reaches the database.
        pre_save.connect(refuse_unsafe_text, dispatch_uid="org.text.refuse_unsafe_text")

        # PostgreSQL's datetimes parsed by psycopg's compiled loader (org.db).
        connection_created.connect(
            db.native_timestamptz_loader, dispatch_uid="org.db.native_timestamptz_loader"
        )
