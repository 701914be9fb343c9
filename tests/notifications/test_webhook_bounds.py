"""The Telegram webhook (behind its secret) bounds the chat ids it is sent like any id (config.parsing): an id no
database column can hold is ignored with a 200, never a 500."""

import pytest

from accounts.models import User
from config.parsing import BIGINT_MAX
from invoices.models import InvoiceStatus
from tests.invoices.helpers import invoice_in
from tests.notifications.fakes import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def _update(api_client, update):
    return api_client.post(
        "/api/telegram/webhook/", update, format="json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=WEBHOOK_SECRET
    )


@pytest.mark.parametrize("chat_id", [BIGINT_MAX + 1, -(BIGINT_MAX + 2), 10**30])
def test_chat_ids_beyond_bigint_are_ignored(make_client, api_client, parent, telegram_settings, chat_id):
    link = make_client(parent).post("/api/profile/me/telegram/").json()["url"]
    code = link.rsplit("start=", 1)[1]
    start = {"update_id": 1, "message": {"message_id": 5, "chat": {"id": chat_id}, "text": f"/start {code}"}}
    assert _update(api_client, start).json() == {}
    invoice = invoice_in(InvoiceStatus.SENT)
    seen = {
        "update_id": 2,
        "callback_query": {
            "id": "cb",
            "from": {"id": chat_id},
            "message": {"message_id": 3, "chat": {"id": chat_id}},
            "data": f"invoice_seen:{invoice.pk}",
        },
    }
    assert _update(api_client, seen).json() == {}
    assert not User.objects.filter(telegram_chat_id__isnull=False).exists()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.SENT
