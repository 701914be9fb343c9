"""Thin views of invoices: lists and lifecycle actions, and the payment webhook."""

import json
import logging
import re

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from config.exceptions import ApiError, ErrorCode, error_body
from config.parsing import DateFilter, IdFilter
from config.schema import api_errors
from config.throttling import ScopedRateThrottle
from invoices import selectors, services
from invoices.errors import InvoiceErrorCode
from invoices.models import Invoice, InvoiceStatus
from invoices.payments import PaymentProviderError, payments_enabled
from invoices.serializers import (
    InvoiceCancelSerializer,
    InvoiceCreateSerializer,
    InvoiceHistorySerializer,
    InvoiceSerializer,
    InvoiceSummarySerializer,
    InvoiceUpdateSerializer,
    PaymentStartedSerializer,
)

logger = logging.getLogger("thebot.invoices")


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    student = IdFilter(field_name="student_id")
    due_before = DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = Invoice
        fields = ["status", "student", "due_before", "due_after"]


# Invoices are between tutors and parents (admins oversee): students and teachers get 403 on every invoice endpoint,
# which leaks nothing since they could not see any invoice anyway.
CanUseInvoices = HasRole(Role.TUTOR, Role.PARENT, Role.ADMIN, message="Invoices are for tutors, parents and admins.")
IsTutor = HasRole(Role.TUTOR, message="Only tutors create invoices.")

# send / cancel: the invoice's tutor (or an admin), along the lifecycle.
_TRANSITION_ERRORS = {403: [InvoiceErrorCode.NOT_ALLOWED], 409: [InvoiceErrorCode.ILLEGAL_TRANSITION]}


class InvoiceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Tutors bill their students' parents; parents read and pay theirs; admins see all.

    Students and teachers get 403 on every invoice endpoint. What a read does to status (past the due date:
    overdue; the parent's first read of a sent invoice: viewed) is one service call, `invoice_on_read` or
    `invoices_on_read` (docs/architecture.md, invoices).
    """

    permission_classes = [CanUseInvoices]
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    search_fields = ["description", "student__first_name", "student__last_name"]
    ordering_fields = ["created_at", "due_date", "amount", "status"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Invoice.objects.none()
        return selectors.invoices_for_list(self.request.user)

    def get_permissions(self):
        if self.action == "create":
            return [CanUseInvoices(), IsTutor()]
        return super().get_permissions()

    def get_throttles(self):
        scopes = {"send": "invoice_send", "pay": "payments"}
        if self.action in scopes:
            self.throttle_scope = scopes[self.action]
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def _invoice(self, pk) -> Invoice:
        return selectors.access_invoice(self.request.user, pk)

    def list(self, request, *args, **kwargs):
        services.invoices_on_read(by=request.user)
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        invoice = self._invoice(pk)
        if services.invoice_on_read(invoice=invoice, by=request.user):
            invoice = self._invoice(pk)
        return Response(InvoiceSerializer(invoice).data)

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    @api_errors(
        {
            400: [
                InvoiceErrorCode.NOT_YOUR_STUDENT,
                InvoiceErrorCode.STUDENT_HAS_NO_PARENT,
                InvoiceErrorCode.ENROLLMENT_MISMATCH,
                InvoiceErrorCode.DUE_DATE_IN_PAST,
            ]
        }
    )
    def create(self, request):
        serializer = InvoiceCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        invoice = services.invoice_create(tutor=request.user, **serializer.validated_data)
        return Response(InvoiceSerializer(self._invoice(invoice.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InvoiceUpdateSerializer, responses=InvoiceSerializer)
    @api_errors(
        {
            400: [InvoiceErrorCode.ENROLLMENT_MISMATCH, InvoiceErrorCode.DUE_DATE_IN_PAST],
            403: [InvoiceErrorCode.NOT_ALLOWED],
            409: [InvoiceErrorCode.NOT_EDITABLE, InvoiceErrorCode.HAS_LINES],
        }
    )
    def partial_update(self, request, pk=None):
        invoice = self._invoice(pk)
        serializer = InvoiceUpdateSerializer(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.invoice_update(invoice_id=invoice.pk, by=request.user, data=serializer.validated_data)
        return Response(InvoiceSerializer(self._invoice(pk)).data)

    @extend_schema(request=None, responses=InvoiceSerializer)
    @api_errors(_TRANSITION_ERRORS)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        services.invoice_send(invoice_id=self._invoice(pk).pk, by=request.user)
        return Response(InvoiceSerializer(self._invoice(pk)).data)

    @extend_schema(request=InvoiceCancelSerializer, responses=InvoiceSerializer)
    @api_errors(_TRANSITION_ERRORS)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        invoice = self._invoice(pk)
        serializer = InvoiceCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.invoice_cancel(invoice_id=invoice.pk, by=request.user, reason=serializer.validated_data["reason"])
        return Response(InvoiceSerializer(self._invoice(pk)).data)

    @extend_schema(request=None, responses=PaymentStartedSerializer)
    @api_errors(
        {
            403: [InvoiceErrorCode.NOT_ALLOWED],
            409: [InvoiceErrorCode.ILLEGAL_TRANSITION, InvoiceErrorCode.PAYMENT_IN_PROGRESS],
            502: [InvoiceErrorCode.PAYMENT_PROVIDER_UNAVAILABLE],
            503: [InvoiceErrorCode.PAYMENTS_NOT_CONFIGURED],
        }
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        payment = services.invoice_pay(invoice_id=self._invoice(pk).pk, by=request.user)
        return Response({"confirmation_url": payment.confirmation_url})

    @extend_schema(responses=InvoiceHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        page = self.paginate_queryset(selectors.invoice_history(self._invoice(pk)))
        return self.get_paginated_response(InvoiceHistorySerializer(page, many=True).data)

    @extend_schema(
        responses=InvoiceSummarySerializer,
        parameters=[
            OpenApiParameter("status", str, many=True, enum=InvoiceStatus.values, description="Any of these."),
            OpenApiParameter("student", OpenApiTypes.INT64),
            OpenApiParameter("due_before", OpenApiTypes.DATE, description="Due on or before."),
            OpenApiParameter("due_after", OpenApiTypes.DATE, description="Due on or after."),
        ],
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        services.invoices_on_read(by=request.user)
        visible = selectors.invoices_visible_to(request.user)
        invoices = self.filterset_class(request.query_params, queryset=visible, request=request)
        if not invoices.is_valid():
            raise ApiError("Invalid filter.", ErrorCode.INVALID, fields=dict(invoices.errors))
        return Response(selectors.invoice_summary(invoices.qs))


_PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PaymentWebhookView(APIView):
    """The provider's notification. Its body is only a hint: the payment is re-read from the provider.

    Anonymous, so it never lets a caller drive outbound traffic: nothing is read while payments are off (503
    `payments_not_configured`, before the body is parsed), nor for an id that names no payment of ours that can
    still change; at most one read per payment and interval (`payment_check_deferred` 503 with `Retry-After`
    otherwise, so that the provider delivers again), each with a short timeout; and a per-address rate
    (`THROTTLE_PAYMENT_WEBHOOK`).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "payment_webhook"

    @extend_schema(request=None, responses={200: None})
    @api_errors(
        {
            400: [ErrorCode.PARSE_ERROR],
            413: [ErrorCode.REQUEST_TOO_LARGE],
            415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE],
            503: [
                InvoiceErrorCode.PAYMENTS_NOT_CONFIGURED,
                InvoiceErrorCode.PAYMENT_CHECK_DEFERRED,
                InvoiceErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            ],
        }
    )
    def post(self, request):
        if not payments_enabled():
            return Response(
                error_body("Online payment is not configured.", InvoiceErrorCode.PAYMENTS_NOT_CONFIGURED), status=503
            )
        data = request.data if isinstance(request.data, dict) else {}
        payment_id = (data.get("object") or {}).get("id") if isinstance(data.get("object"), dict) else None
        if not isinstance(payment_id, str) or not _PROVIDER_ID.match(payment_id):
            logger.warning("payment notification without a usable payment id")
            return Response({"status": "ignored"})
        # Kept for support as received (bounded); it is stored only once the provider confirmed the payment.
        notification = data if len(json.dumps(data, default=str)) <= 16384 else {"event": str(data.get("event"))[:64]}
        try:
            outcome = services.payment_apply_notification(provider_payment_id=payment_id, notification=notification)
        except services.PaymentCheckDeferred as deferred:
            body = error_body(
                "This payment is being checked; deliver the notification again later.",
                InvoiceErrorCode.PAYMENT_CHECK_DEFERRED,
            )
            return Response(body, status=503, headers={"Retry-After": str(deferred.retry_after)})
        except PaymentProviderError:
            # Not applied: answer non-2xx so that the provider delivers the notification again later.
            return Response(
                error_body("The payment provider is unavailable.", "payment_provider_unavailable"), status=503
            )
        return Response({"status": outcome})
