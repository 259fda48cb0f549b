"""The normalisation rules of the reading layer, one by one."""

import pytest

from org import sheets


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("0827 5261234", "0827-5261234"),
        ("(0827)5261234", "0827-5261234"),
        ("0827-5261234", "0827-5261234"),
        ("08275261234", "08275261234"),  # no separator typed: not guessed
        ("+86 139-0000-0001", "13900000001"),
        ("0086 13900000001", "13900000001"),
        ("8613900000001", "13900000001"),
        ("１３９００００００01", "13900000001"),
        ("139 0000 0001", "13900000001"),
        ("139-0000-00", "139-0000-00"),  # left for the validator to refuse
    ],
)
def test_phones(typed, stored):
    assert sheets.normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("张\u3000\u3000三", "张三"),
        ("一街道\n办事处", "一街道办事处"),
        ("Sunny\u00a0 Road 社区", "Sunny Road 社区"),
        ("巴州区（新区）", "巴州区（新区）"),  # Chinese punctuation kept
        ("Ａ栋１单元", "A栋1单元"),
        ("\ufeff回风\u200b社区\u00ad", "回风社区"),
        ("x\x00y\x1f", "xy"),
    ],
)
def test_names(typed, stored):
    assert sheets.normalise_name(typed) == stored


def test_codes_and_free_text():
    assert sheets.normalise_code("\u00a0ＳＩ－０１\u200b ") == "SI-01"
    assert sheets.normalise_text(" 第一行 \r\n\r\n  第二  行 ") == "第一行\n第二 行"


def test_header_keys_ignore_notes_spaces_and_marks():
    assert {sheets.header_key(h) for h in ["*编码（必填）", " 编 码 ", "编码(如 S1)", "编码："]} == {"编码"}


def test_traditional_characters():
    assert sheets.traditional_characters("回風社區") == "風區"
    assert sheets.traditional_characters("回风社区") == ""


def test_a_stashed_upload_is_given_back_once_to_its_owner(tmp_path, settings):
    import io

    settings.SHEETS_STASH_DIR = str(tmp_path)
    token = sheets.stash(io.BytesIO(b"content"), 7, name="a.xlsx")
    assert sheets.unstash(token, 8) is None
    file, extra = sheets.unstash(token, 7)
    assert file.read() == b"content" and extra == {"name": "a.xlsx"}
    assert sheets.unstash(token, 7) is None
    assert not list(tmp_path.iterdir())
