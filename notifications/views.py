"""Thin views of notifications: the caller's Telegram deep link and notification settings, the unsubscribe link
of emails, and Telegram's webhook."""

import hmac

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import ErrorCode, error_body
from config.schema import api_errors
from notifications import services
from notifications.errors import NotificationError, NotificationErrorCode
from notifications.events import PREFERENCE_EVENTS
from notifications.serializers import (
    NotificationSettingsOutSerializer,
    NotificationSettingsSerializer,
    TelegramLinkSerializer,
    UnsubscribeOutSerializer,
    UnsubscribeSerializer,
)


class TelegramWebhookView(APIView):
    """Telegram updates: `/start <code>` binds the chat; a pressed button runs its app's service (e.g. "Seen" marks
    an invoice viewed). The protocol is parsed in `services.telegram_update_answer`.

    Answers go back as a Bot API method in the response body (Telegram executes it), so this view makes no
    outbound call. Anything else is acknowledged with 200 so that Telegram does not redeliver it.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(request=None, responses={200: None})
    @api_errors(
        {
            400: [ErrorCode.PARSE_ERROR],
            403: [ErrorCode.PERMISSION_DENIED],
            413: [ErrorCode.REQUEST_TOO_LARGE],
            415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE],
        }
    )
    def post(self, request):
        secret = settings.TELEGRAM_WEBHOOK_SECRET
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(error_body("Forbidden.", ErrorCode.PERMISSION_DENIED), status=403)
        return Response(services.telegram_update_answer(request.data))


class TelegramLinkView(APIView):
    @extend_schema(request=None, responses=TelegramLinkSerializer)
    @api_errors({503: [NotificationErrorCode.TELEGRAM_NOT_CONFIGURED]})
    def post(self, request):
        return Response({"url": services.telegram_link_create(user=request.user)})


def _settings_body(user) -> dict:
    chosen = services.preferences(user)
    return {
        "language": user.language,
        "telegram_linked": user.telegram_chat_id is not None,
        "preferences": [
            {"event": name, "label": str(kind.subject), **chosen[name]} for name, kind in PREFERENCE_EVENTS.items()
        ],
    }


class NotificationSettingsView(APIView):
    """The caller's notification settings: the language of messages to them (emails, Telegram, the API's `detail`)
    and, per kind of notice, whether it comes on Telegram and/or by email. PUT changes what it names: events and
    channels left out keep their value."""

    @extend_schema(request=None, responses=NotificationSettingsOutSerializer)
    def get(self, request):
        return Response(_settings_body(request.user))

    @extend_schema(request=NotificationSettingsSerializer, responses=NotificationSettingsOutSerializer)
    def put(self, request):
        serializer = NotificationSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = {
            item["event"]: {name: item[name] for name in ("telegram", "email") if name in item}
            for item in data.get("preferences", [])
        }
        services.settings_update(user=request.user, language=data.get("language"), changes=changes)
        if request.user.language:
            translation.activate(request.user.language)  # the answer already in the language just chosen
        return Response(_settings_body(request.user))


def _unsubscribe_target(token):
    target = services.unsubscribe_target(token) if isinstance(token, str) else None
    if target is None:
        raise NotificationError(
            _("This unsubscribe link is invalid or expired."), NotificationErrorCode.INVALID_UNSUBSCRIBE_TOKEN
        )
    return target


class UnsubscribeView(APIView):
    """The unsubscribe link of every email, without signing in: GET shows what the link would turn off (and changes
    nothing: mail scanners follow links), POST with the same token turns that email off (idempotent). The token is
    signed and names one user and one event ("*": every event); it carries no URL, so there is nothing to redirect
    to."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "token", str, required=False, allow_blank=True, description="The token of the email's link (required)."
            )
        ],
        responses=UnsubscribeOutSerializer,
    )
    @api_errors({400: [NotificationErrorCode.INVALID_UNSUBSCRIBE_TOKEN]})
    def get(self, request):
        user, event = _unsubscribe_target(request.query_params.get("token"))
        return Response({"event": event, "email": _email_on(services.preferences(user), event)})

    @extend_schema(request=UnsubscribeSerializer, responses=UnsubscribeOutSerializer)
    @api_errors({400: [NotificationErrorCode.INVALID_UNSUBSCRIBE_TOKEN]})
    def post(self, request):
        serializer = UnsubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, event = _unsubscribe_target(serializer.validated_data["token"])
        chosen = services.unsubscribe_apply(user=user, event=event)
        return Response({"event": event, "email": _email_on(chosen, event)})


def _email_on(chosen: dict, event: str) -> bool:
    if event in chosen:
        return chosen[event]["email"]
    return any(choice["email"] for choice in chosen.values())
