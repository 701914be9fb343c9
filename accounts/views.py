"""Thin views of accounts: authentication, the caller's profile, and admin user management."""

import django_filters
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_throttle, services, tokens
from accounts.authentication import WWW_AUTHENTICATE
from accounts.errors import AccountErrorCode
from accounts.models import Role, User
from accounts.permissions import IsAdmin
from accounts.selectors import user_for_profile, with_profile_lists, with_profiles
from accounts.serializers import (
    AdminUserCreatedSerializer,
    AdminUserCreateSerializer,
    AdminUserUpdateSerializer,
    LoginResponseSerializer,
    LoginSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    TemporaryPasswordSerializer,
    UserSerializer,
)
from config.exceptions import error_body
from config.parsing import BooleanFilter
from config.schema import api_errors
from config.throttling import ScopedRateThrottle


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Failures are limited by accounts.login_throttle; successful logins are not rate limited.
    throttle_classes: list = []

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    @api_errors({401: [AccountErrorCode.INVALID_CREDENTIALS], 429: ["throttled"]})
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].strip().lower()
        password = serializer.validated_data["password"]
        # Counted before the password hash, as a failure unless it succeeds (accounts/login_throttle.py).
        try:
            user = login_throttle.throttled_login(
                request,
                email,
                lambda: authenticate(request, email=email, password=password),
                succeeded=lambda user: user is not None,
            )
        except login_throttle.LoginThrottled as throttled:
            return Response(
                error_body("Too many failed logins. Try again later.", "throttled"),
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(throttled.retry_after)},
            )
        if user is None:
            return Response(
                error_body("Wrong email or password.", AccountErrorCode.INVALID_CREDENTIALS),
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": WWW_AUTHENTICATE},
            )
        token, expires_at = tokens.token_issue(user=user, request=request)
        return Response(
            {
                "token": token,
                "expires_at": LoginResponseSerializer().fields["expires_at"].to_representation(expires_at),
                "user": UserSerializer(with_profile_lists(user)).data,
            }
        )


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        tokens.revoke(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        tokens.revoke_all(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(user_for_profile(request.user.pk, request.user.role)).data)

    @extend_schema(request=MeUpdateSerializer, responses=UserSerializer)
    @api_errors({400: [AccountErrorCode.READ_ONLY_FIELD]})
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        profile = data.pop("profile", None)
        services.user_update(user=request.user, data=data, profile=profile)
        return Response(UserSerializer(user_for_profile(request.user.pk, request.user.role)).data)


class PasswordChangeView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_change"

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    @api_errors({400: [AccountErrorCode.WRONG_PASSWORD, AccountErrorCode.WEAK_PASSWORD]})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_change(
            user=request.user,
            old_password=serializer.validated_data["old_password"],
            new_password=serializer.validated_data["new_password"],
            current_token_key=request.auth.digest,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


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

    permission_classes = [IsAdmin]
    serializer_class = UserSerializer
    filterset_class = AdminUserFilter
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["id", "email", "last_name", "date_joined"]
    ordering = ["id"]
    lookup_value_converter = "id"

    def get_queryset(self):
        return with_profiles(User.objects.all())

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
