"""The shared PDF module: which Chinese font it writes with, and that the text can be read back."""

import io
import os

import pypdf
import pytest
from django.core.exceptions import ImproperlyConfigured

from org import pdf

DEBIAN_FONT = next((p for p in pdf.DEBIAN_FONTS if os.path.isfile(p)), None)


def _document() -> bytes:
    st = pdf.styles()
    story = [
        *pdf.red_header("巴州创文办", "巴州创文办〔2026〕3号"),
        pdf.Paragraph("关于创文考评情况的通报", st["title"]),
        pdf.table(["名次", "单位"], [["1", "东城街道"]]),
    ]
    return pdf.build(story, title="通报")


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_without_a_font_file_the_builtin_cid_font_is_named_not_embedded(settings, monkeypatch):
    settings.PDF_CJK_FONT = ""
    monkeypatch.setattr(pdf, "DEBIAN_FONTS", ())
    assert pdf.cjk_font() == pdf.CJKFont("STSong-Light", embedded=False)
    data = _document()
    assert b"/FontFile2" not in data
    text = _text(data)
    assert "巴州创文办〔2026〕3号" in text and "东城街道" in text and "— 1 —" in text


@pytest.mark.skipif(DEBIAN_FONT is None, reason="fonts-wqy-microhei/zenhei not installed")
def test_a_debian_font_is_embedded(settings):
    settings.PDF_CJK_FONT = ""
    font = pdf.cjk_font()
    assert font.embedded and font.path == DEBIAN_FONT
    data = _document()
    assert b"/FontFile2" in data  # the TrueType subset is in the file
    assert "关于创文考评情况的通报" in _text(data)


@pytest.mark.skipif(DEBIAN_FONT is None, reason="fonts-wqy-microhei/zenhei not installed")
def test_the_setting_names_the_font(settings):
    settings.PDF_CJK_FONT = DEBIAN_FONT
    assert pdf.cjk_font().path == DEBIAN_FONT


def test_a_setting_naming_no_font_is_a_configuration_error(settings, tmp_path):
    settings.PDF_CJK_FONT = str(tmp_path / "missing.ttf")
    with pytest.raises(ImproperlyConfigured):
        pdf.cjk_font()
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    settings.PDF_CJK_FONT = str(broken)
    with pytest.raises(ImproperlyConfigured):
        pdf.cjk_font()
