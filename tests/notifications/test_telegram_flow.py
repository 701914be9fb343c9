"""Deep-link binding and the Telegram webhook (secret header, /start, other updates). The invoice buttons and
message: tests/invoices/test_telegram_notices.py."""

import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from accounts.models import User
from notifications.models import TelegramLinkCode
from tests.notifications.fakes import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def _update(api_client, update, secret=WEBHOOK_SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return api_client.post("/api/telegram/webhook/", update, format="json", **headers)


def _start(chat_id, code, update_id=1):
    return {"update_id": update_id, "message": {"message_id": 5, "chat": {"id": chat_id}, "text": f"/start {code}"}}


def _link_code(make_client, user) -> str:
    response = make_client(user).post("/api/profile/me/telegram/")
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith("https://t.me/thebot_test_bot?start=")
    return parse_qs(urlparse(url).query)["start"][0]


def test_link_code_is_one_time_hashed_and_binds_the_chat(make_client, api_client, parent, telegram_settings):
    code = _link_code(make_client, parent)
    stored = TelegramLinkCode.objects.get(user=parent)
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest() and code not in stored.code_hash
    response = _update(api_client, _start(555, code))
    assert response.status_code == 200
    assert response.json() == {"method": "sendMessage", "chat_id": 555, "text": "Your account is linked."}
    parent.refresh_from_db()
    assert parent.telegram_chat_id == 555
    assert make_client(parent).get("/api/profile/me/").json()["telegram_linked"] is True

    # The same update delivered again, or the code reused from another chat: harmless, nothing rebinds.
    again = _update(api_client, _start(555, code))
    assert again.json()["text"].startswith("This link is invalid")
    _update(api_client, _start(777, code, update_id=2))
    parent.refresh_from_db()
    assert parent.telegram_chat_id == 555
    assert not TelegramLinkCode.objects.exists()


def test_group_chats_are_not_bound(make_client, api_client, parent, telegram_settings):
    code = _link_code(make_client, parent)
    update = _start(-100, code)
    update["message"]["chat"]["type"] = "group"
    assert _update(api_client, update).json() == {}
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None
    assert _update(api_client, _start(100, code)).json()["text"] == "Your account is linked."


def test_new_link_replaces_the_old_one(make_client, api_client, parent, telegram_settings):
    old = _link_code(make_client, parent)
    new = _link_code(make_client, parent)
    assert _update(api_client, _start(1, old)).json()["text"].startswith("This link is invalid")
    assert _update(api_client, _start(1, new)).json()["text"] == "Your account is linked."


def test_expired_code_does_not_bind(make_client, api_client, parent, telegram_settings, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    code = _link_code(make_client, parent)
    time_machine.shift(settings.TELEGRAM_LINK_TTL_SECONDS)
    assert _update(api_client, _start(9, code)).json()["text"].startswith("This link is invalid")
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None


def test_linking_a_chat_to_another_account_moves_it(make_client, api_client, parent, tutor, telegram_settings):
    _update(api_client, _start(31, _link_code(make_client, parent)))
    _update(api_client, _start(31, _link_code(make_client, tutor)))
    assert dict(User.objects.filter(pk__in=[parent.pk, tutor.pk]).values_list("pk", "telegram_chat_id")) == {
        parent.pk: None,
        tutor.pk: 31,
    }


def test_link_without_telegram_configured_is_503(make_client, parent, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    response = make_client(parent).post("/api/profile/me/telegram/")
    assert (response.status_code, response.json()["code"]) == (503, "telegram_not_configured")


@pytest.mark.parametrize("secret", [None, "", "wrong", WEBHOOK_SECRET + "x"])
def test_webhook_refuses_a_missing_or_wrong_secret(make_client, api_client, parent, telegram_settings, secret):
    code = _link_code(make_client, parent)
    response = _update(api_client, _start(5, code), secret=secret)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None
    assert TelegramLinkCode.objects.filter(user=parent).exists()


def test_webhook_is_off_without_a_configured_secret(api_client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert _update(api_client, {"update_id": 1}, secret="").status_code == 403


def test_webhook_acknowledges_other_updates(api_client, telegram_settings):
    for update in [{"update_id": 1}, {"update_id": 2, "message": {"chat": {"id": 1}, "text": "hi"}}, {"message": 3}]:
        response = _update(api_client, update)
        assert (response.status_code, response.json()) == (200, {})
    assert _update(api_client, _start(1, "")).json()["text"].startswith("This link is invalid")
