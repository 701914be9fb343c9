"""Thin views of people: the caller's own profile (`profile/me/`) and user administration by admins
(`admin/users/`)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import AccountErrorCode
from accounts.models import Role, User
from accounts.permissions import HasRole
from accounts.readers import render_users, user_rows
from accounts.selectors import user_for_profile, with_profiles
from accounts.serializers import UserSerializer
from config.parsing import BooleanFilter
from config.schema import api_errors
from core import caching
from people import services
from people.serializers import (
    AdminUserCreatedSerializer,
    AdminUserCreateSerializer,
    AdminUserUpdateSerializer,
    MeUpdateSerializer,
    TemporaryPasswordSerializer,
)


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
