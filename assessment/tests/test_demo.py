"""The demo's assessment: published weekly, monthly and quarterly runs, 14 issued circulars
numbered 1…14 of the year, approved 加减分 counted in a published correction 更正版, 约谈 and 问责
records; loading twice changes nothing."""

import datetime as dt
import io

import pypdf
from django.utils import timezone

from assessment import demo, services
from assessment.models import Accountability, Bonus, Circular, Figure, Run, RunEvent


def test_demo(demo_world, db):
    today = timezone.localdate()
    last_month = services.period_of("month", services.period_of("month", today)[0] - dt.timedelta(days=1))
    published = Run.objects.filter(status="published")
    assert set(published.values_list("period_kind", flat=True)) == {"week", "month", "quarter"}
    assert published.filter(period_kind="month", version=1).count() == 12
    numbers = list(Circular.objects.order_by("sequence").values_list("number", flat=True))
    assert numbers == [f"巴州创文办〔{today.year}〕{n}号" for n in range(1, 15)]
    assert not Circular.objects.filter(status="draft").exists()

    correction = Run.objects.get(version=2)
    original = correction.previous
    assert correction.is_published and correction.reason == demo.CORRECTION_REASON
    assert original.label == last_month[2] and original.scheme.name == demo.STREETS_MONTHLY
    assert services.replaced_by(original) == correction and correction.circular.sequence == 14
    # The approved entries were approved after the original's T: 0 there, counted in the correction.
    approved = Bonus.objects.filter(status="approved")
    assert approved.count() == 3 and Bonus.objects.filter(status="pending").count() == 1
    assert all(b.decided_by.username == "hq2" and b.entered_by.username == "hq" for b in approved)
    for entry in approved:
        before = Figure.objects.get(run=original, unit=entry.unit, kind="bonus")
        after = Figure.objects.get(run=correction, unit=entry.unit, kind="bonus")
        assert (
            before.numerator == 0
            and after.numerator == entry.points
            and after.source == {"bonuses": [entry.pk]}
        )

    kinds = set(Accountability.objects.values_list("kind", flat=True))
    assert kinds == {"talk", "accountability"} and Accountability.objects.count() >= 13

    text = "".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(bytes(correction.circular.pdf))).pages
    )
    assert correction.circular.number in text and "更正版" in text

    counts = [m.objects.count() for m in (Run, Circular, Bonus, Accountability, RunEvent, Figure)]
    demo.load()
    assert [m.objects.count() for m in (Run, Circular, Bonus, Accountability, RunEvent, Figure)] == counts
