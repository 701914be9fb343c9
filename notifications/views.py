"""Thin views of notifications: the caller's Telegram deep link, and Telegram's webhook."""

import hmac

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import ErrorCode, error_body
from config.schema import api_errors
from notifications import services
from notifications.errors import NotificationErrorCode
from notifications.serializers import TelegramLinkSerializer


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
