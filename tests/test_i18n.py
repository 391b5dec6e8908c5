"""The Simplified Chinese catalogue: complete, compiled, and used by default."""

import polib
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from enterprises.uscc import validate_uscc

CATALOGUE_DIR = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = CATALOGUE_DIR / "django.po"
MO_PATH = CATALOGUE_DIR / "django.mo"


def translations(entries) -> dict:
    """(msgctxt, msgid, msgid_plural) -> msgstr, or the tuple of plural msgstrs in order."""
    table = {}
    for entry in entries:
        if not entry.msgid:  # the header
            continue
        if entry.msgid_plural:
            value = tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
        else:
            value = entry.msgstr
        table[(entry.msgctxt, entry.msgid, entry.msgid_plural or None)] = value
    return table


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO_PATH))


def test_the_catalogue_header_is_for_simplified_chinese(po):
    assert not po.metadata_is_fuzzy, "the header of django.po is marked fuzzy"
    assert po.metadata.get("Plural-Forms") == "nplurals=1; plural=0;"
    assert po.metadata.get("Content-Type") == "text/plain; charset=UTF-8"


def test_every_message_is_translated(po):
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated msgids in django.po: {untranslated}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy msgids in django.po: {fuzzy}"


def test_plural_entries_fill_the_single_chinese_form(po):
    incomplete = [entry.msgid for entry in po if entry.msgid_plural and not entry.obsolete
                  and (set(entry.msgstr_plural) != {0} or not entry.msgstr_plural[0])]
    assert not incomplete, f"plural entries without exactly one filled msgstr[0]: {incomplete}"


def test_the_compiled_catalogue_matches_the_po_file(po):
    assert MO_PATH.exists(), "django.mo is missing: run compilemessages -l zh_Hans"
    expected = translations(po.translated_entries())
    compiled = translations(polib.mofile(str(MO_PATH)))
    missing = sorted(key[1] for key in expected.keys() - compiled.keys())
    stale = sorted(key[1] for key in compiled.keys() & expected.keys() if compiled[key] != expected[key])
    extra = sorted(key[1] for key in compiled.keys() - expected.keys())
    assert not (missing or stale or extra), (
        "django.mo is out of date with django.po; run compilemessages -l zh_Hans. "
        f"missing: {missing}; different: {stale}; no longer in the .po: {extra}"
    )


@pytest.mark.django_db
def test_the_login_page_is_chinese_even_for_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in body
    assert "登录" in body
    assert "质量帮扶服务平台" in body
    assert "Sign in" not in body


@pytest.mark.django_db
def test_the_language_switcher_turns_the_login_page_english(client):
    login = reverse("login")
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302
    body = client.get(login, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en"' in body
    assert "Sign in" in body
    assert "登录" not in body


@pytest.mark.parametrize(
    ("code", "chinese"),
    [
        ("913501", "信用代码应为 18 位，当前为 6 位。"),
        ("91350100M000100YI3", "信用代码不能包含 I"),
        ("91350100M000100Y44", "校验码（第 18 位）与前 17 位不符"),
    ],
)
def test_credit_code_errors_come_out_in_chinese(code, chinese):
    with pytest.raises(ValidationError) as raised:
        validate_uscc(code)
    with translation.override("zh-hans"):
        chinese_messages = raised.value.messages
    with translation.override("en"):
        english_messages = raised.value.messages
    assert len(chinese_messages) == 1
    assert chinese_messages[0].startswith(chinese), chinese_messages
    assert chinese_messages != english_messages
    assert "credit code" in english_messages[0] or "check character" in english_messages[0]
