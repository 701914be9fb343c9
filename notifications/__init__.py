"""Notifications: telling a user something outside the app (shared infrastructure, below the domain apps).

The interface every app uses is `notifications.services`:

- `notify(user, *, event, text, buttons=None, dedupe_key=None, receipts=None)` queues one send job per channel that
  is on, reaches the user and their preference for `event` allows (`events.py`: the kinds of notice and their
  defaults; `NotificationPreference` rows), and returns the names of those channels. Render `text` in the
  recipient's language (`translation.override(language_of(user))`). Call it after your transaction committed
  (`transaction.on_commit`). `event` names what happened ("invoice_sent", "lesson_reminder"); `dedupe_key` makes the
  notice go out at most once per channel however often its job runs, and lets `withdraw(dedupe_key=...)` cancel it
  while it is still queued; `receipts` asks a channel to store the id of the message it sent on a row of the
  caller's (`{"telegram": [model label, pk, field]}`).
- `reachable(user)`: whether some channel has an address for the user; `notifications_enabled()`: whether any
  channel is on.

Channels (`channels.py`): a channel has a `name`, says whether it is `enabled()`, gives a user's `address(user)`
(None: not reachable on it) and `enqueue(address, notice, user)`s its own send job (`tasks.py`). Telegram
(`telegram.py` is the platform's only Bot API client) and email (Django's email framework, text and HTML templates,
a signed unsubscribe link: `unsubscribe.py`, `GET/POST /api/notifications/unsubscribe/`). Callers say what to tell
whom, never how. The caller's settings (language, preferences): `GET/PUT /api/profile/me/notifications/`.

Telegram also comes in: a user links their chat with a one-time deep link (`POST /api/profile/me/telegram/`,
`TelegramLinkCode`), and Telegram's webhook (`/api/telegram/webhook/`) is answered by
`services.telegram_update_answer`. Buttons carry `<action>:<id>` (`telegram.callback_data`); the service of the app
that owns an action is named in `settings.TELEGRAM_CALLBACK_ACTIONS` (this app cannot import the apps above it) and
is called with the chat's linked user.
"""
