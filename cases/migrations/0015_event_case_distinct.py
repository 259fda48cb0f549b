"""PostgreSQL: tell the planner that a case has a handful of timeline events, not hundreds.

ANALYZE samples 30,000 rows of the event table; because a case's events lie together, the sample
sees few distinct cases and at 60 million events estimated 395,000 of them (150 events a case,
where there are six). The case detail's timeline query then joined the events to their actors by
reading the whole user table (a hash join, 0.9 ms at 1,700 people, growing with the staff)
instead of looking up the six actors by key (0.24 ms). ``n_distinct = -0.1`` says "one case per
ten events" whatever the table's size, which is PostgreSQL's documented remedy for such a
misestimate; ANALYZE of that one column applies it (a sample, about a second at 60 million
rows). SQLite has no such statistics and is left alone."""

from django.db import migrations

TABLE, COLUMN = "cases_caseevent", "case_id"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET (n_distinct = -0.1)")
    schema_editor.execute(f"ANALYZE {TABLE} ({COLUMN})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} RESET (n_distinct)")
    schema_editor.execute(f"ANALYZE {TABLE} ({COLUMN})")


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_fewer_case_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
