"""The category catalogue 部件/事件 shipped with the system; HQ extends it in the admin.

Major and minor classes follow the numbering of the digital-city-management standards (CJ/T 214
/ GB/T 30428.2): components 部件 and events 事件 are numbered separately, major class two digits,
minor class four. Time limits are working days (5 as in the seeds unless the class is quicker by
nature); urgent hour limits are set for the emergencies 突发事件 and the hazards among components.
"""

from django.db import migrations

D = "department"
S = "street_office"
C = "community_committee"
E = "enterprise"

# kind, major code, major name, [(code, name, working days, urgent hours, default unit kind)]
CATALOGUE = [
    ("component", "01", "公用设施", [
        ("0101", "上水井盖", 5, 4, E),
        ("0102", "污水井盖", 5, 4, D),
        ("0103", "雨水井盖", 5, 4, D),
        ("0104", "雨水箅子", 5, 4, D),
        ("0105", "电力井盖", 5, 4, E),
        ("0106", "路灯井盖", 5, 4, D),
        ("0107", "通信井盖", 5, 4, E),
        ("0111", "燃气井盖", 5, 2, E),
        ("0115", "消防栓", 5, 4, D),
        ("0118", "路灯", 5, None, D),
    ]),
    ("component", "02", "道路交通", [
        ("0201", "停车场", 5, None, D),
        ("0203", "公交站亭", 5, None, D),
        ("0207", "交通标志牌", 5, None, D),
        ("0208", "交通信号灯", 3, 4, D),
        ("0211", "道路护栏", 5, None, D),
        ("0214", "路名牌", 5, None, D),
    ]),
    ("component", "03", "市容环境", [
        ("0301", "公共厕所", 5, None, D),
        ("0304", "垃圾间（楼）", 5, None, D),
        ("0306", "广告牌匾", 5, None, D),
        ("0308", "果皮箱", 3, None, D),
        ("0309", "垃圾箱", 3, None, D),
    ]),
    ("component", "04", "园林绿化", [
        ("0401", "古树名木", 5, None, D),
        ("0402", "行道树", 5, None, D),
        ("0403", "护树设施", 5, None, D),
        ("0405", "绿地", 5, None, D),
        ("0407", "雕塑", 5, None, D),
    ]),
    ("event", "01", "市容环境", [
        ("0101", "私搭乱建", 5, None, S),
        ("0102", "暴露垃圾", 1, None, C),
        ("0103", "积存垃圾渣土", 2, None, S),
        ("0104", "道路不洁", 1, None, D),
        ("0105", "水域不洁", 3, None, D),
        ("0106", "绿地脏乱", 3, None, D),
        ("0107", "废弃车辆", 5, None, D),
        ("0108", "废弃家具", 3, None, C),
        ("0110", "道路遗撒", 1, 4, D),
        ("0111", "焚烧垃圾树叶", 1, 2, S),
    ]),
    ("event", "02", "宣传广告", [
        ("0201", "非法小广告", 2, None, C),
        ("0202", "违规张贴悬挂", 3, None, S),
        ("0203", "占道广告牌", 5, None, D),
        ("0204", "街头散发广告", 1, None, D),
        ("0205", "公益广告破损", 5, None, D),
    ]),
    ("event", "03", "施工管理", [
        ("0301", "施工扰民", 3, None, D),
        ("0302", "工地扬尘", 2, None, D),
        ("0303", "道路破损", 5, None, D),
        ("0304", "无证掘路", 2, None, D),
        ("0305", "施工占道", 3, None, D),
    ]),
    ("event", "04", "突发事件", [
        ("0401", "路面塌陷", 1, 2, D),
        ("0402", "自来水管破裂", 1, 2, E),
        ("0403", "燃气管道破裂", 1, 1, E),
        ("0404", "下水道堵塞或破损", 2, 4, D),
        ("0406", "道路积水", 1, 2, D),
        ("0407", "道路积雪结冰", 1, 4, D),
    ]),
    ("event", "05", "街面秩序", [
        ("0501", "无照经营游商", 2, None, D),
        ("0502", "流浪乞讨", 2, None, D),
        ("0503", "占道废品收购", 2, None, S),
        ("0504", "店外经营", 2, None, S),
        ("0505", "机动车乱停放", 1, None, D),
        ("0506", "非机动车乱停放", 1, None, S),
        ("0508", "露天烧烤", 1, None, D),
        ("0509", "占道堆物", 2, None, C),
    ]),
]


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for kind, major_code, major_name, minors in CATALOGUE:
        for code, name, days, hours, unit_kind in minors:
            Category.objects.update_or_create(
                kind=kind,
                code=code,
                defaults={
                    "name": name,
                    "major_code": major_code,
                    "major_name": major_name,
                    "time_limit_days": days,
                    "time_limit_hours": hours,
                    "default_unit_kind": unit_kind,
                },
            )


def unload(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for kind, _major_code, _major_name, minors in CATALOGUE:
        Category.objects.filter(kind=kind, code__in=[m[0] for m in minors], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
