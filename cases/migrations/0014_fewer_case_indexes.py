"""Drop four single-column indexes made redundant by indexes beginning with the same column (the
case's category, region and lead unit; the event's case): one index less to keep up to date on
every report. Dropped by name (Django names them the same on PostgreSQL and SQLite), not by
``AlterField`` alone, which on SQLite rebuilds the whole case table and with it drops the map's
triggers (cases.mapcells)."""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, the index Django created for the foreign key)
DROPPED = [
    ("cases_case", "category_id", "cases_case_category_id_c6dc5a5a"),
    ("cases_case", "lead_unit_id", "cases_case_lead_unit_id_fb1941ea"),
    ("cases_case", "region_id", "cases_case_region_id_ffee331b"),
    ("cases_caseevent", "case_id", "cases_caseevent_case_id_6c6031ac"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_map_cells"),
        ("org", "0004_import_job"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
                )
                for table, column, index in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="cases.category",
                        verbose_name="类别",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="lead_unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="led_cases",
                        to="org.unit",
                        verbose_name="主办单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="region",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="org.region",
                        verbose_name="所在区域",
                    ),
                ),
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="cases.case",
                        verbose_name="案件",
                    ),
                ),
            ],
        )
    ]
