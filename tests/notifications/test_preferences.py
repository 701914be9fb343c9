# ruff: noqa: RUF001 - Russian text is the point of these assertions
"""Notification preferences: the routing rule (property-tested), the caller's settings API (GET/PUT
/api/profile/me/notifications/) and the unsubscribe link's token (forged, altered, expired, all events)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from notifications import unsubscribe
from notifications.events import CHANNEL_NAMES, ESSENTIAL_EVENTS, PREFERENCE_EVENTS
from notifications.models import NotificationPreference
from notifications.services import notify, preferences, wanted_channels

CHOICES = st.fixed_dictionaries({"telegram": st.booleans(), "email": st.booleans()})
PREFERENCES = st.fixed_dictionaries({name: CHOICES for name in PREFERENCE_EVENTS})
EVENTS = st.sampled_from([*PREFERENCE_EVENTS, *ESSENTIAL_EVENTS, "some_new_event"])


@given(chosen=PREFERENCES, event=EVENTS)
def test_routing_follows_the_preference_and_never_drops_essentials(chosen, event):
    channels = wanted_channels(event, chosen)
    assert channels <= set(CHANNEL_NAMES)
    if event in ESSENTIAL_EVENTS:
        assert channels == {"email"}  # whatever the preferences say
    elif event in PREFERENCE_EVENTS:
        assert channels == {name for name in CHANNEL_NAMES if chosen[event][name]}
    else:
        assert channels == set(CHANNEL_NAMES)  # a kind of notice the preferences do not know yet goes everywhere


@pytest.mark.django_db
def test_notify_queues_only_the_wanted_channels(parent, telegram_settings):
    parent.telegram_chat_id = 77
    parent.save()
    assert sorted(notify(parent, event="invoice_sent", text="x")) == ["email", "telegram"]
    NotificationPreference.objects.create(user=parent, event="invoice_sent", telegram=False, email=True)
    assert notify(parent, event="invoice_sent", text="x") == ["email"]
    NotificationPreference.objects.filter(user=parent).update(email=False)
    assert notify(parent, event="invoice_sent", text="x") == []
    # The reset link is essential: by email, whatever the preferences.
    NotificationPreference.objects.create(user=parent, event="lesson_reminder", telegram=False, email=False)
    assert notify(parent, event="password_reset", text="x") == ["email"]


@pytest.mark.django_db
def test_settings_api_shows_defaults_and_changes_only_what_it_names(make_client, parent, django_assert_num_queries):
    client = make_client(parent)
    with django_assert_num_queries(2):  # the session, the preferences
        body = client.get("/api/profile/me/notifications/").json()
    assert body["language"] == "" and body["telegram_linked"] is False
    assert [row["event"] for row in body["preferences"]] == list(PREFERENCE_EVENTS)
    assert {row["event"]: (row["telegram"], row["email"]) for row in body["preferences"]}["billing_run_ready"] == (
        False,
        True,
    )
    put = client.put(
        "/api/profile/me/notifications/",
        {"language": "ru", "preferences": [{"event": "lesson_reminder", "telegram": False}]},
        format="json",
    )
    assert put.status_code == 200
    rows = {row["event"]: row for row in put.json()["preferences"]}
    assert (rows["lesson_reminder"]["telegram"], rows["lesson_reminder"]["email"]) == (False, True)
    assert rows["lesson_reminder"]["label"] == "Напоминание о занятии"  # the caller's new language, at once
    parent.refresh_from_db()
    assert parent.language == "ru"
    assert preferences(parent)["lesson_reminder"] == {"telegram": False, "email": True}
    assert NotificationPreference.objects.filter(user=parent).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"preferences": [{"event": "no_such_event", "email": False}]},
        {"preferences": [{"event": "invoice_sent", "email": "maybe"}]},
        {"preferences": [{"event": "invoice_sent"}, {"event": "invoice_sent"}]},
        {"preferences": [{"event": "password_reset", "email": False}]},  # essential: not a preference
        {"language": "de"},
        {"preferences": "all"},
    ],
)
def test_bad_settings_are_a_400_and_change_nothing(make_client, parent, body):
    response = make_client(parent).put("/api/profile/me/notifications/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    parent.refresh_from_db()
    assert parent.language == "" and not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_unsubscribe_tokens_forged_altered_expired_or_of_a_deactivated_user_do_nothing(api_client, parent, settings):
    token = unsubscribe.make_token(parent.pk, "invoice_sent")
    other = unsubscribe.make_token(parent.pk + 1000, "invoice_sent")
    for bad in ("", "x" * 600, token[:-2] + "xx", token.replace(":", ";", 1), other, f"{token}/../"):
        for response in (
            api_client.get("/api/notifications/unsubscribe/", {"token": bad}),
            api_client.post("/api/notifications/unsubscribe/", {"token": bad}, format="json"),
        ):
            assert response.status_code == 400, bad
            assert response.json()["code"] in {"invalid_unsubscribe_token", "invalid"}
    with time_machine.travel(timezone.now() + timedelta(days=settings.EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS + 1)):
        expired = api_client.post("/api/notifications/unsubscribe/", {"token": token}, format="json")
    assert expired.json()["code"] == "invalid_unsubscribe_token"
    russian = api_client.get("/api/notifications/unsubscribe/", {"token": "x"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.json() == {
        "detail": "Ссылка для отписки недействительна или устарела.",
        "code": "invalid_unsubscribe_token",
    }
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_an_all_events_token_turns_every_email_off(api_client, parent):
    token = unsubscribe.make_token(parent.pk, unsubscribe.ALL_EVENTS)
    response = api_client.post("/api/notifications/unsubscribe/", {"token": token}, format="json")
    assert response.json() == {"event": "*", "email": False}
    assert all(not choice["email"] for choice in preferences(parent).values())
    assert all(choice["telegram"] == PREFERENCE_EVENTS[name].telegram for name, choice in preferences(parent).items())
