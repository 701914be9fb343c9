"""Thin views of accounts: signing in and out, and changing one's password. The own profile and user
administration are `people.views`."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_throttle, services, tokens
from accounts.authentication import WWW_AUTHENTICATE
from accounts.errors import AccountErrorCode
from accounts.selectors import with_profile_lists
from accounts.serializers import LoginResponseSerializer, LoginSerializer, PasswordChangeSerializer, UserSerializer
from config.exceptions import error_body
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
                error_body(_("Too many failed logins. Try again later."), "throttled"),
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(throttled.retry_after)},
            )
        if user is None:
            return Response(
                error_body(_("Wrong email or password."), AccountErrorCode.INVALID_CREDENTIALS),
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
