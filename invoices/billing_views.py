"""Thin views of billing: invoice lines, rates, billing runs (preview and run) and the billing state of lessons."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from accounts.models import Role
from accounts.permissions import HasRole
from config.exceptions import NotFound
from config.parsing import parse_id
from config.schema import api_errors
from invoices import selectors
from invoices.billing_serializers import (
    BillingPeriodSerializer,
    BillingPreviewSerializer,
    BillingRunSerializer,
    InvoiceLineCreateSerializer,
    InvoiceLineSerializer,
    InvoiceLineUpdateSerializer,
    LessonBillingSerializer,
    LessonRateCreateSerializer,
    LessonRateSerializer,
    PayRateCreateSerializer,
    PayRateSerializer,
)
from invoices.errors import InvoiceError, InvoiceErrorCode
from invoices.models import InvoiceLine, LessonRate, PayRate
from invoices.services import billing, lines
from scheduling.models import Lesson

CanUseInvoices = HasRole(Role.TUTOR, Role.PARENT, Role.ADMIN, message="Invoices are for tutors, parents and admins.")
CanRunBilling = HasRole(Role.TUTOR, Role.ADMIN, message="Billing runs are for tutors and admins.")
IsAdmin = HasRole(Role.ADMIN, message="Rates are managed by admins.")

_LINE_ERRORS = {
    400: [InvoiceErrorCode.TOTAL_NOT_POSITIVE, InvoiceErrorCode.DISCOUNT_TOO_LARGE],
    403: [InvoiceErrorCode.NOT_ALLOWED],
    409: [InvoiceErrorCode.NOT_EDITABLE, InvoiceErrorCode.LINE_NOT_EDITABLE],
}
_RUN_ERRORS = {400: [InvoiceErrorCode.NOT_A_TUTOR, InvoiceErrorCode.INVALID_PERIOD]}


class InvoiceLinesView(generics.GenericAPIView):
    """The lines of an invoice (whoever sees the invoice); the tutor or an admin adds manual lines to a draft."""

    permission_classes = [CanUseInvoices]
    serializer_class = InvoiceLineSerializer
    queryset = InvoiceLine.objects.none()

    @extend_schema(responses=InvoiceLineSerializer(many=True))
    def get(self, request, id):
        invoice = selectors.access_invoice(request.user, id)
        page = self.paginate_queryset(selectors.invoice_lines(invoice))
        return self.get_paginated_response(InvoiceLineSerializer(page, many=True).data)

    @extend_schema(request=InvoiceLineCreateSerializer, responses={201: InvoiceLineSerializer})
    @api_errors(_LINE_ERRORS)
    def post(self, request, id):
        invoice = selectors.access_invoice(request.user, id)
        serializer = InvoiceLineCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = lines.invoice_line_add(invoice_id=invoice.pk, by=request.user, **serializer.validated_data)
        return Response(InvoiceLineSerializer(line).data, status=status.HTTP_201_CREATED)


class InvoiceLineDetailView(generics.GenericAPIView):
    """Edit or remove a manual line of a draft (lesson and credit lines follow the lessons: 409)."""

    permission_classes = [CanUseInvoices]
    serializer_class = InvoiceLineSerializer
    queryset = InvoiceLine.objects.none()
    http_method_names = ["patch", "delete", "options"]

    def _ids(self, id, line_id) -> tuple[int, int]:
        invoice = selectors.access_invoice(self.request.user, id)
        try:
            line_pk = parse_id(line_id)
        except ValueError:
            raise NotFound() from None
        return invoice.pk, line_pk

    @extend_schema(request=InvoiceLineUpdateSerializer, responses=InvoiceLineSerializer)
    @api_errors(_LINE_ERRORS)
    def patch(self, request, id, line_id):
        invoice_pk, line_pk = self._ids(id, line_id)
        serializer = InvoiceLineUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        line = lines.invoice_line_update(
            invoice_id=invoice_pk, line_id=line_pk, by=request.user, data=serializer.validated_data
        )
        return Response(InvoiceLineSerializer(line).data)

    @extend_schema(request=None, responses={204: None})
    @api_errors(_LINE_ERRORS)
    def delete(self, request, id, line_id):
        invoice_pk, line_pk = self._ids(id, line_id)
        lines.invoice_line_remove(invoice_id=invoice_pk, line_id=line_pk, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LessonRateView(generics.GenericAPIView):
    """Lesson rates (admins): a default per teacher and subject, or a student's own; a change is a new row."""

    permission_classes = [IsAdmin]
    serializer_class = LessonRateSerializer
    queryset = LessonRate.objects.none()

    @extend_schema(responses=LessonRateSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.lesson_rates())
        return self.get_paginated_response(LessonRateSerializer(page, many=True).data)

    @extend_schema(request=LessonRateCreateSerializer, responses={201: LessonRateSerializer})
    def post(self, request):
        serializer = LessonRateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate = billing.lesson_rate_create(by=request.user, **serializer.validated_data)
        return Response(LessonRateSerializer(selectors.lesson_rates().get(pk=rate.pk)).data, status=201)


class PayRateView(generics.GenericAPIView):
    """Teachers' pay rates (admins), per teacher and optionally subject; a change is a new row."""

    permission_classes = [IsAdmin]
    serializer_class = PayRateSerializer
    queryset = PayRate.objects.none()

    @extend_schema(responses=PayRateSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.pay_rates())
        return self.get_paginated_response(PayRateSerializer(page, many=True).data)

    @extend_schema(request=PayRateCreateSerializer, responses={201: PayRateSerializer})
    def post(self, request):
        serializer = PayRateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate = billing.pay_rate_create(by=request.user, **serializer.validated_data)
        return Response(PayRateSerializer(selectors.pay_rates().get(pk=rate.pk)).data, status=201)


def _tutor_and_period(request) -> dict:
    serializer = BillingPeriodSerializer(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    tutor = data["tutor"] if request.user.is_admin else request.user
    if tutor is None:
        raise InvoiceError("Name the tutor to bill for.", InvoiceErrorCode.NOT_A_TUTOR, fields={"tutor": ["Required."]})
    return {"tutor": tutor, "period_start": data["period_start"], "period_end": data["period_end"]}


class BillingPreviewView(generics.GenericAPIView):
    """What a billing run would write now; writes nothing."""

    permission_classes = [CanRunBilling]
    serializer_class = BillingPreviewSerializer

    @extend_schema(request=BillingPeriodSerializer, responses=BillingPreviewSerializer)
    @api_errors(_RUN_ERRORS)
    def post(self, request):
        return Response(billing.billing_preview(**_tutor_and_period(request)))


class BillingRunView(generics.GenericAPIView):
    """Run billing: draft invoices (one per parent) from the period's billable lessons not yet invoiced."""

    permission_classes = [CanRunBilling]
    serializer_class = BillingRunSerializer

    @extend_schema(request=BillingPeriodSerializer, responses={201: BillingRunSerializer})
    @api_errors(_RUN_ERRORS)
    def post(self, request):
        run = billing.billing_run(**_tutor_and_period(request), by=request.user)
        return Response(BillingRunSerializer(run, context={"invoices": run.touched}).data, status=201)


class LessonBillingView(generics.ListAPIView):
    """The lessons the caller sees, each with its billing state (not billable, billable, invoiced: which line)."""

    permission_classes = [CanUseInvoices]
    serializer_class = LessonBillingSerializer
    filter_backends: list = []  # oldest first; no filters yet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lesson.objects.none()
        return selectors.lessons_with_billing(self.request.user).order_by("start", "id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "state": billing.lesson_billing_state}
