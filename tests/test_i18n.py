"""English, the second language: switching to it, the Chinese default, and a complete catalogue."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from portal.models import Role
from tests import factories
from tests.conftest import client_for

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def h1_text(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "page has no <h1>"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- Switching language -----------------------------------------------------------------


@pytest.mark.django_db
def test_logged_in_user_switches_to_english():
    school = factories.school()
    user = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    client = client_for(user)

    before = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert before.status_code == 200
    assert h1_text(before.content.decode()) == "工作台"

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    # The chosen language wins over the browser's Accept-Language.
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 200
    html = page.content.decode()
    heading = h1_text(html)
    assert "Dashboard" in heading
    assert "工作台" not in heading
    assert '<html lang="en"' in html
    assert "Log out" in html  # the navigation bar is English too
    assert "Shanghai Vocational School Skill-Level Certification Portal" in html

    # ... and switching back restores Chinese.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert h1_text(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()) == "工作台"


@pytest.mark.django_db
def test_chinese_is_the_default_for_a_new_visitor():
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 200
    html = page.content.decode()
    assert h1_text(html) == "登录"
    assert '<html lang="zh-CN"' in html


@pytest.mark.django_db
def test_chinese_without_accept_language():
    page = Client().get("/accounts/login/")
    assert h1_text(page.content.decode()) == "登录"


@pytest.mark.django_db
def test_browser_asking_for_english_still_gets_chinese_until_the_user_switches():
    """portal.middleware.ChineseFirstLocaleMiddleware ignores Accept-Language; only the switcher's cookie counts."""
    client = Client()
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert h1_text(page.content.decode()) == "登录"

    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert h1_text(html) == "Log in"
    assert "登录" not in html


# --- The catalogue ----------------------------------------------------------------------


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr / msgstr[n] (unescaped) and flags."""
    entries: list[dict] = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def messages() -> list[dict]:
    return [e for e in parse_po(PO_FILE) if e["msgid"] != ""]


def msgstrs(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_catalogue_exists_and_is_sizeable():
    assert PO_FILE.exists() and MO_FILE.exists()
    assert len(messages()) > 100


def test_header_is_not_fuzzy_and_names_english():
    header = next(e for e in parse_po(PO_FILE) if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated = [e["msgid"] for e in messages() if not msgstrs(e) or any(not s.strip() for s in msgstrs(e))]
    fuzzy = [e["msgid"] for e in messages() if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_both_english_forms():
    for entry in messages():
        if "msgid_plural" in entry:
            assert {"msgstr[0]", "msgstr[1]"} <= entry.keys(), entry["msgid"]


def test_translations_keep_every_placeholder():
    for entry in messages():
        expected = sorted(set(PLACEHOLDER.findall(entry["msgid"])))
        for text in msgstrs(entry):
            assert sorted(set(PLACEHOLDER.findall(text))) == expected, (entry["msgid"], text)


def test_translations_are_english():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    # literal values and sheet names of the Chinese Excel templates and of the directory export
    allowed = {"是", "否", "填写说明", "评价机构目录", "导出说明"}
    for entry in messages():
        for text in msgstrs(entry):
            leftover = set(cjk.findall(text)) - set("".join(allowed))
            assert not leftover, (entry["msgid"], text)


def test_compiled_catalogue_matches_the_po_file():
    with MO_FILE.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for entry in messages():
        if "msgid_plural" in entry:
            if compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) != entry["msgstr[0]"]:
                stale.append(entry["msgid"])
            if compiled.ngettext(entry["msgid"], entry["msgid_plural"], 2) != entry["msgstr[1]"]:
                stale.append(entry["msgid"])
        elif "msgctxt" in entry:
            if compiled.pgettext(entry["msgctxt"], entry["msgid"]) != entry["msgstr"]:
                stale.append(entry["msgid"])
        elif compiled.gettext(entry["msgid"]) != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert stale == [], "django.mo is out of date: run `make messages` (compilemessages)"
