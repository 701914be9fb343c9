import pytest

from tests.invoices.fakes import FakeProvider


@pytest.fixture
def fake_provider(settings):
    server = FakeProvider("shop-1", "shop-secret").start()
    settings.PAYMENT_API_BASE_URL = server.url
    settings.PAYMENT_SHOP_ID = "shop-1"
    settings.PAYMENT_SECRET_KEY = "shop-secret"
    settings.PAYMENT_TIMEOUT_SECONDS = 0.5
    settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS = 0.5
    yield server
    server.stop()
