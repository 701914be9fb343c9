"""The kinds of notice the platform sends (`event` of `notifications.services.notify`), what the preferences
offer for each, and their defaults.

An event of PREFERENCE_EVENTS is routed by the recipient's preference (NotificationPreference rows; no row: the
default here). An ESSENTIAL event (the password reset link) goes by email whatever the preferences say and has no
unsubscribe link: the person asked for it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventType:
    name: str
    subject: str  # the email's subject (lazy: rendered in the recipient's language)
    telegram: bool = True  # default: on Telegram (when the chat is linked)
    email: bool = True  # default: by email


PREFERENCE_EVENTS: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("invoice_sent", _("New invoice")),
        EventType("payment_received", _("Payment received")),
        EventType("unpaid_reminder", _("Invoice awaiting payment")),
        EventType("lesson_reminder", _("Lesson reminder")),
        EventType("lesson_report", _("Lesson report")),
        EventType("assignment_published", _("New assignment")),
        EventType("billing_run_ready", _("Draft invoices ready"), telegram=False),
    )
}

ESSENTIAL_EVENTS: dict[str, EventType] = {
    "password_reset": EventType("password_reset", _("Password reset"), telegram=False),
}

CHANNEL_NAMES = ("telegram", "email")


def event_type(name: str) -> EventType | None:
    return PREFERENCE_EVENTS.get(name) or ESSENTIAL_EVENTS.get(name)
