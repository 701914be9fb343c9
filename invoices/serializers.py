from decimal import Decimal

from rest_framework import serializers

from accounts.models import Role, User
from accounts.serializers import PersonSerializer
from config.parsing import DateField, IdRelatedField
from invoices.models import Invoice, InvoiceStatusHistory
from materials.models import Enrollment

MAX_AMOUNT = Decimal("99999999.99")


class InvoiceSerializer(serializers.ModelSerializer):
    """What every reader sees; everything is read-only (writes go through the services)."""

    tutor = PersonSerializer(read_only=True)
    student = PersonSerializer(read_only=True)
    parent = PersonSerializer(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "tutor",
            "student",
            "parent",
            "enrollment",
            "amount",
            "currency",
            "description",
            "status",
            "due_date",
            "sent_at",
            "viewed_at",
            "paid_at",
            "created_at",
        ]
        read_only_fields = fields


class InvoiceCreateSerializer(serializers.Serializer):
    # The service checks that the student is the tutor's (same 400 for "not yours" and "no such student").
    student = IdRelatedField(queryset=User.objects.filter(role=Role.STUDENT))
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    due_date = DateField()
    enrollment = IdRelatedField(queryset=Enrollment.objects.all(), required=False, allow_null=True, default=None)


class InvoiceUpdateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT, required=False
    )
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    due_date = DateField(required=False)
    enrollment = IdRelatedField(queryset=Enrollment.objects.all(), required=False, allow_null=True)


class InvoiceCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class InvoiceHistorySerializer(serializers.ModelSerializer):
    old = serializers.CharField(source="old_status", read_only=True)
    new = serializers.CharField(source="new_status", read_only=True)
    changed_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = InvoiceStatusHistory
        fields = ["id", "old", "new", "changed_by", "changed_at", "reason"]
        read_only_fields = fields


class PaymentStartedSerializer(serializers.Serializer):
    confirmation_url = serializers.URLField(read_only=True)


class StatusSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.CharField(), help_text="Total amount per currency.")


class InvoiceSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_status = serializers.DictField(child=StatusSummarySerializer())


class TelegramLinkSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True)
