"""Serializers of billing: invoice lines, rates, billing runs and the billing state of lessons."""

from decimal import Decimal

from rest_framework import serializers

from accounts.models import Role, User
from accounts.serializers import PersonSerializer
from config.parsing import CharField, DateField, IdRelatedField, ModelSerializer, ScopedIdRelatedField
from enrollments.models import Subject
from invoices.models import BillingRun, InvoiceLine, LessonRate, LineKind, PayRate

MAX_PRICE = Decimal("99999999.99")
MAX_QUANTITY = Decimal("999.99")


class InvoiceLineSerializer(ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "invoice", "kind", "description", "quantity", "unit_price", "amount", "lesson", "credits"]
        read_only_fields = fields


class InvoiceLineCreateSerializer(serializers.Serializer):
    description = CharField(max_length=500)
    quantity = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_QUANTITY, default=Decimal(1)
    )
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=-MAX_PRICE,
        max_value=MAX_PRICE,
        help_text="Negative: a discount (BILLING_MAX_DISCOUNT_PERCENT of the other lines at most).",
    )


class InvoiceLineUpdateSerializer(InvoiceLineCreateSerializer):
    description = CharField(max_length=500, required=False)
    quantity = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_QUANTITY, required=False
    )
    unit_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=-MAX_PRICE, max_value=MAX_PRICE, required=False
    )


class SubjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = CharField(read_only=True)


class LessonRateSerializer(ModelSerializer):
    teacher = PersonSerializer(read_only=True)
    student = PersonSerializer(read_only=True, allow_null=True)
    subject = SubjectRefSerializer(read_only=True)

    class Meta:
        model = LessonRate
        fields = ["id", "teacher", "subject", "student", "price_per_hour", "currency", "valid_from", "created_at"]
        read_only_fields = fields


class PayRateSerializer(ModelSerializer):
    teacher = PersonSerializer(read_only=True)
    subject = SubjectRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PayRate
        fields = ["id", "teacher", "subject", "price_per_hour", "currency", "valid_from", "created_at"]
        read_only_fields = fields


_PRICE = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal("0.01"), "max_value": MAX_PRICE}


class LessonRateCreateSerializer(serializers.Serializer):
    teacher = IdRelatedField(queryset=User.objects.filter(role=Role.TEACHER))
    subject = IdRelatedField(queryset=Subject.objects.all())
    student = IdRelatedField(
        queryset=User.objects.filter(role=Role.STUDENT), required=False, allow_null=True, default=None
    )
    price_per_hour = serializers.DecimalField(**_PRICE)
    valid_from = DateField()


class PayRateCreateSerializer(serializers.Serializer):
    teacher = IdRelatedField(queryset=User.objects.filter(role=Role.TEACHER))
    subject = IdRelatedField(queryset=Subject.objects.all(), required=False, allow_null=True, default=None)
    price_per_hour = serializers.DecimalField(**_PRICE)
    valid_from = DateField()


def _tutors_named_by(user: User):
    return User.objects.filter(role=Role.TUTOR) if user.is_admin else User.objects.filter(pk=user.pk)


class BillingPeriodSerializer(serializers.Serializer):
    period_start = DateField()
    period_end = DateField()
    tutor = ScopedIdRelatedField(
        queryset=User.objects.filter(role=Role.TUTOR),
        scope=_tutors_named_by,
        required=False,
        allow_null=True,
        default=None,
        help_text="Admins name the tutor (required); a tutor runs their own billing (may name only themself).",
    )


class PreviewLineSerializer(serializers.Serializer):
    lesson = serializers.IntegerField(allow_null=True)
    student = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LineKind.choices)
    description = CharField()
    quantity = CharField()
    unit_price = CharField()
    amount = CharField()


class PreviewInvoiceSerializer(serializers.Serializer):
    parent = serializers.DictField()
    currency = CharField()
    existing_draft = serializers.IntegerField(allow_null=True)
    lines = PreviewLineSerializer(many=True)
    total = CharField()


class BillingPreviewSerializer(serializers.Serializer):
    tutor = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    invoices = PreviewInvoiceSerializer(many=True)
    draft_changes = serializers.ListField(child=serializers.DictField())
    unpriced_lessons = serializers.ListField(child=serializers.IntegerField())


class BillingRunSerializer(ModelSerializer):
    invoices = serializers.SerializerMethodField()

    class Meta:
        model = BillingRun
        fields = ["id", "tutor", "period_start", "period_end", "lines_added", "lines_changed", "created_at", "invoices"]
        read_only_fields = fields

    def get_invoices(self, run) -> list[int]:
        return self.context.get("invoices", [])


class LessonBillingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    teacher = PersonSerializer()
    student = PersonSerializer()
    subject = SubjectRefSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = CharField()
    billing = serializers.SerializerMethodField()

    def get_billing(self, lesson) -> dict:
        return self.context["state"](lesson)
