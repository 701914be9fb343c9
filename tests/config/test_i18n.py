# ruff: noqa: RUF001 - Russian text is the point of these assertions
"""Messages to people in Russian or English: the translation files in the repo are complete and compiled, and the
API's `detail` follows Accept-Language, or the user's own language, while its `code` stays the same."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "ru" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "ru" / "LC_MESSAGES" / "django.mo"


def _entries(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header excluded)."""
    entries = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        joined = "\n".join(lines)
        match = re.match(r'msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', joined + "\n")
        if not match:
            continue
        msgid, msgstr = (
            "".join(re.findall(r'"(.*)"', part)).encode().decode("unicode_escape").encode("latin-1").decode()
            for part in match.groups()
        )
        if msgid:
            entries[msgid] = msgstr
    return entries


def test_every_message_has_a_russian_translation():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 30
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8").split("\n\n", 1)[1]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_compiled_catalog_matches_the_po_file(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)
    with MO.open("rb") as committed, compiled.open("rb") as fresh:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog


@pytest.mark.django_db
def test_accept_language_chooses_the_detail_and_the_code_stays(api_client):
    for language, detail in (("ru", "Неверный email или пароль."), ("en", "Wrong email or password.")):
        response = api_client.post(
            "/api/auth/login/",
            {"email": "nobody@example.test", "password": "wrong-password-1"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 401
        assert response.json() == {"detail": detail, "code": "invalid_credentials"}
        assert response["Content-Language"] == language
    # DRF's and Django's own messages come translated too.
    anonymous = api_client.get("/api/profile/me/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9")
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous.json()["detail"] == "Учетные данные не были предоставлены."
    missing = api_client.get("/api/no-such-thing/", HTTP_ACCEPT_LANGUAGE="ru")
    assert missing.json() == {"detail": "Не найдено.", "code": "not_found"}


@pytest.mark.django_db
def test_the_users_own_language_wins_over_accept_language(make_client, parent):
    User.objects.filter(pk=parent.pk).update(language="ru")
    parent.refresh_from_db()
    client = make_client(parent)
    response = client.post(
        "/api/profile/me/password/",
        {"old_password": "wrong-password-1", "new_password": "x" * 14},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["code"] == "wrong_password"
    assert response.json()["detail"] == "Текущий пароль неверен."
