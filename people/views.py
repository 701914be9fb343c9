"""Thin views of people: the caller's own profile (`profile/me/`), user administration by admins
(`admin/users/`) and the self-service password reset (`auth/password-reset/`, people/password_reset.py)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import AccountErrorCode
from accounts.models import Role, User
from accounts.permissions import HasRole
from accounts.readers import render_users, user_rows
from accounts.selectors import user_for_profile, with_profiles
from accounts.serializers import UserSerializer
from config.exceptions import ErrorCode, error_body
from config.parsing import BooleanFilter
from config.schema import api_errors
from config.throttling import ScopedRateThrottle
from core import caching
from people import password_reset, services
from people.serializers import (
    AdminUserCreatedSerializer,
    AdminUserCreateSerializer,
    AdminUserUpdateSerializer,
    MeUpdateSerializer,
    PasswordResetAcceptedSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    TemporaryPasswordSerializer,
)
from people.tasks import password_reset_send


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        # Read as columns (accounts.readers): UserSerializer's output, at a fraction of its cost; then cached.
        user = request.user
        return Response(
            caching.cached(
                f"me:{user.pk}",
                (caching.user_scope(user.pk), caching.PEOPLE, caching.ENROLLMENTS, caching.SUBJECTS),
                lambda: render_users(list(user_rows(User.objects.filter(pk=user.pk), user.role)), user.role)[0],
            )
        )

    @extend_schema(request=MeUpdateSerializer, responses=UserSerializer)
    @api_errors({400: [AccountErrorCode.READ_ONLY_FIELD]})
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        profile = data.pop("profile", None)
        services.user_update(user=request.user, data=data, profile=profile)
        return Response(UserSerializer(user_for_profile(request.user.pk, request.user.role)).data)


class AdminUserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "is_active"]


class AdminUserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Admin-only user management. DELETE deactivates; rows are never deleted."""

    permission_classes = [HasRole(Role.ADMIN, message="Only administrators may do this.")]
    serializer_class = UserSerializer
    filterset_class = AdminUserFilter
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["id", "email", "last_name", "date_joined"]
    ordering = ["id"]
    lookup_value_converter = "id"

    def get_queryset(self):
        return with_profiles(User.objects.all())

    def list(self, request):
        # UserSerializer's output read as columns (accounts.readers): the page of users with every profile in one
        # query, every profile's lists in one more, no model built; the list is the most used admin page.
        users = self.filter_queryset(User.objects.all())
        page = self.paginate_queryset(user_rows(users))
        return self.get_paginated_response(render_users(page))

    @extend_schema(request=AdminUserCreateSerializer, responses={201: AdminUserCreatedSerializer})
    @api_errors(
        {
            400: [
                AccountErrorCode.EMAIL_TAKEN,
                AccountErrorCode.WEAK_PASSWORD,
                AccountErrorCode.WRONG_ROLE,
                AccountErrorCode.READ_ONLY_FIELD,
            ]
        }
    )
    def create(self, request):
        serializer = AdminUserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, temporary = services.user_create(**serializer.validated_data)
        user = user_for_profile(user.pk)
        user.temporary_password = temporary
        return Response(AdminUserCreatedSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdminUserUpdateSerializer, responses=UserSerializer)
    @api_errors(
        {
            400: [
                AccountErrorCode.EMAIL_TAKEN,
                AccountErrorCode.WRONG_ROLE,
                AccountErrorCode.READ_ONLY_FIELD,
                AccountErrorCode.CANNOT_DEACTIVATE_SELF,
            ]
        }
    )
    def partial_update(self, request, pk=None):
        user = self.get_object()
        serializer = AdminUserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        profile = data.pop("profile", None)
        services.user_update(user=user, data=data, profile=profile, by_admin=True, by=request.user)
        return Response(UserSerializer(user_for_profile(user.pk)).data)

    @api_errors({400: [AccountErrorCode.CANNOT_DEACTIVATE_SELF]})
    def destroy(self, request, pk=None):
        services.user_deactivate(user=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=TemporaryPasswordSerializer)
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        password = services.user_reset_password(user=self.get_object())
        return Response({"temporary_password": password})


class PasswordResetRequestView(APIView):
    """Ask for a password reset link by email. The answer is the same 202 whether or not an account has the
    address (the lookup and the email are a background job); limited per client address (THROTTLE_PASSWORD_RESET)
    and per email address asked for (PASSWORD_RESET_PER_EMAIL per window), both answered 429."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: PasswordResetAcceptedSerializer})
    @api_errors({429: [ErrorCode.THROTTLED]})
    def post(self, request):
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = password_reset.normalize_email(serializer.validated_data["email"])
        try:
            password_reset.count_request(email)
        except password_reset.PasswordResetThrottled as throttled:
            return Response(
                error_body(_("Too many password reset requests. Try again later."), ErrorCode.THROTTLED),
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(throttled.retry_after)},
            )
        password_reset_send.enqueue(email)
        return Response(
            {"detail": _("If an account has this address, a link to reset its password is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    """Set a new password with the link of a reset email (its `uid` and `token`): single use, expiring; every
    session of the account is signed out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    @api_errors(
        {400: [AccountErrorCode.INVALID_RESET_TOKEN, AccountErrorCode.WEAK_PASSWORD], 429: [ErrorCode.THROTTLED]}
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset.confirm_reset(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
