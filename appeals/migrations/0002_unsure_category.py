"""The category an appeal gets when the citizen picks "不确定" (not sure): the dispatcher
re-classifies it when accepting the case. It is not offered as an Open311 service."""

from django.db import migrations

KIND, MAJOR_CODE, MAJOR_NAME, CODE, NAME = "event", "99", "其他", "9900", "待分类（群众诉求）"


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Category.objects.get_or_create(
        kind=KIND,
        code=CODE,
        defaults={"name": NAME, "major_code": MAJOR_CODE, "major_name": MAJOR_NAME, "time_limit_days": 5},
    )


def unload(apps, schema_editor):
    apps.get_model("cases", "Category").objects.filter(kind=KIND, code=CODE, cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial"), ("cases", "0002_category_catalogue")]

    operations = [migrations.RunPython(load, unload)]
