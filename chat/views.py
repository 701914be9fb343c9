"""Thin REST views of the chat: parse, call one selector or service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from chat import selectors, services
from chat.errors import ChatError, ChatErrorCode
from chat.models import ChatRoom, Message, RoomKind
from chat.serializers import (
    HistoryPageSerializer,
    HistoryQuerySerializer,
    MessageCreateSerializer,
    MessageEditSerializer,
    MessageSerializer,
    ReadMarkerResultSerializer,
    ReadMarkerSerializer,
    RoomCreateSerializer,
    RoomSerializer,
    TicketSerializer,
)
from chat.throttling import send_allowed
from chat.tickets import TICKET_TTL_SECONDS, ticket_issue
from config.parsing import given_query
from config.schema import api_errors
from config.throttling import ScopedRateThrottle, UserRateThrottle
from files.downloads import file_response

# The role gate of group rooms (a direct room is open to everyone, so it is checked for `kind: group` only).
GroupCreators = HasRole(Role.TEACHER, Role.TUTOR, Role.ADMIN)


class RoomListView(generics.ListAPIView):
    """The user's rooms, newest activity first; `POST` opens a direct room (existing one returned) or a group."""

    serializer_class = RoomSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ChatRoom.objects.none()
        return selectors.rooms_for(self.request.user)

    @extend_schema(request=RoomCreateSerializer, responses={200: RoomSerializer, 201: RoomSerializer})
    @api_errors(
        {
            400: [ChatErrorCode.DIRECT_WITH_SELF, ChatErrorCode.USER_NOT_FOUND],
            403: [ChatErrorCode.GROUP_NOT_ALLOWED],
            404: [ChatErrorCode.USER_NOT_FOUND],
        }
    )
    def post(self, request):
        data = RoomCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["kind"] == RoomKind.GROUP and not GroupCreators().has_permission(request, self):
            raise ChatError(
                "Only teachers, tutors and admins create group rooms.", ChatErrorCode.GROUP_NOT_ALLOWED, status=403
            )
        if data.validated_data["kind"] == RoomKind.DIRECT:
            room, created = services.room_direct_open(user=request.user, other_user_id=data.validated_data["user"])
        else:
            room = services.room_group_create(
                user=request.user, name=data.validated_data["name"], user_ids=data.validated_data["users"]
            )
            created = True
        room = selectors.room_for(request.user, room.pk)
        return Response(RoomSerializer(room).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RoomDetailView(APIView):
    @extend_schema(responses=RoomSerializer)
    @api_errors({404: [ChatErrorCode.NOT_FOUND]})
    def get(self, request, pk: int):
        return Response(RoomSerializer(selectors.room_for(request.user, pk)).data)


class RoomMessagesView(APIView):
    """History by message id (`before`, `after`, `limit` ≤ 100; oldest first) and sending."""

    # The project's parsers (settings): JSON bounded in depth (config/parsers.py), multipart for attachments.

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST" and self.request.content_type.startswith("multipart/"):
            # A send with a file (multipart) is an upload like any other: the `uploads` scope.
            self.throttle_scope = "uploads"
            throttles.append(ScopedRateThrottle())
        return throttles

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistoryPageSerializer)
    @api_errors({404: [ChatErrorCode.NOT_FOUND]})
    def get(self, request, pk: int):
        query = HistoryQuerySerializer(data=given_query(request))
        query.is_valid(raise_exception=True)
        room = selectors.access_room(request.user, pk)
        messages, has_more = selectors.messages_page(
            room_id=room.pk,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        return Response({"results": MessageSerializer(messages, many=True).data, "has_more": has_more})

    @extend_schema(request=MessageCreateSerializer, responses={200: MessageSerializer, 201: MessageSerializer})
    @api_errors(
        {
            400: [ChatErrorCode.TEXT_REQUIRED, ChatErrorCode.TEXT_TOO_LONG, ChatErrorCode.MESSAGE_NOT_FOUND],
            403: [ChatErrorCode.ROOM_READ_ONLY],
            404: [ChatErrorCode.NOT_FOUND],
            409: [ChatErrorCode.CLIENT_ID_REUSED],
        }
    )
    def post(self, request, pk: int):
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not send_allowed(request.user.pk):
            raise Throttled(wait=1)
        message, created = services.message_post(
            sender=request.user,
            room_id=pk,
            text=data.validated_data["text"],
            client_id=data.validated_data["client_id"],
            reply_to_id=data.validated_data.get("reply_to"),
            attachment=data.validated_data.get("attachment"),
        )
        return Response(
            MessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MessageDetailView(APIView):
    """The author edits (`PATCH {text}`) or deletes a message."""

    @extend_schema(request=MessageEditSerializer, responses=MessageSerializer)
    @api_errors(
        {
            400: [ChatErrorCode.TEXT_REQUIRED, ChatErrorCode.TEXT_TOO_LONG],
            403: [ChatErrorCode.NOT_AUTHOR],
            404: [ChatErrorCode.MESSAGE_NOT_FOUND],
            409: [ChatErrorCode.MESSAGE_DELETED],
        }
    )
    def patch(self, request, pk: int):
        data = MessageEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(user=request.user, message_id=pk, text=data.validated_data["text"])
        return Response(MessageSerializer(message).data)

    @extend_schema(responses={204: None})
    @api_errors({403: [ChatErrorCode.NOT_AUTHOR], 404: [ChatErrorCode.MESSAGE_NOT_FOUND]})
    def delete(self, request, pk: int):
        services.message_delete(user=request.user, message_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageAttachmentView(APIView):
    @extend_schema(responses={(200, "*/*"): bytes})
    @api_errors({404: [ChatErrorCode.MESSAGE_NOT_FOUND]})
    def get(self, request, pk: int):
        message = Message.objects.filter(pk=pk, room__participants__user=request.user).first()
        if message is None or not message.attachment:
            raise ChatError("Message not found.", ChatErrorCode.MESSAGE_NOT_FOUND, status=404)
        return file_response(message.attachment, message.attachment_name or "attachment")


class RoomReadView(APIView):
    """Moves the caller's read marker forward (never back)."""

    @extend_schema(request=ReadMarkerSerializer, responses=ReadMarkerResultSerializer)
    @api_errors({400: [ChatErrorCode.MESSAGE_NOT_FOUND], 404: [ChatErrorCode.NOT_FOUND]})
    def post(self, request, pk: int):
        data = ReadMarkerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marker = services.read_marker_move(user=request.user, room_id=pk, message_id=data.validated_data["message_id"])
        return Response({"room": pk, "last_read_message_id": marker})


class WsTicketView(APIView):
    """A single-use ticket for `/ws/chat/?ticket=`, valid 60 s (the token never goes into a URL).

    At most 30 a minute per user (the `chat_ticket` rate), which bounds the tickets a user holds in the cache."""

    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "chat_ticket"

    @extend_schema(request=None, responses=TicketSerializer)
    def post(self, request):
        digest = getattr(request.auth, "digest", None)  # the knox session, so that its revocation closes the socket
        ticket = ticket_issue(user_id=request.user.pk, token_digest=digest)
        return Response({"ticket": ticket, "expires_in": TICKET_TTL_SECONDS})
