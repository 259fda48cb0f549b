"""The "不确定" (not sure) category is for citizens only: staff may neither report nor
reclassify a case into it (``Category.public_only``, honoured by ``cases.services``)."""

from django.db import migrations

KIND, CODE = "event", "9900"  # as in 0002_unsure_category


def mark(apps, schema_editor):
    apps.get_model("cases", "Category").objects.filter(kind=KIND, code=CODE).update(public_only=True)


def unmark(apps, schema_editor):
    apps.get_model("cases", "Category").objects.filter(kind=KIND, code=CODE).update(public_only=False)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0003_appeal_earlier_cases"),
        ("cases", "0004_category_public_only_reclassify"),
    ]

    operations = [migrations.RunPython(mark, unmark)]
