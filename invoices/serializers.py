from decimal import Decimal

from rest_framework import serializers

from accounts.models import Role, User
from accounts.serializers import PersonSerializer
from config.parsing import CharField, DateField, ModelSerializer, ScopedIdRelatedField
from enrollments.models import Enrollment
from enrollments.visibility import student_ids_of, students_of
from invoices.models import Invoice, InvoiceStatusHistory

MAX_AMOUNT = Decimal("99999999.99")


def _enrollments_of(user: User):
    """The enrollments of the caller's students: the only ones an invoice of theirs may name."""
    return Enrollment.objects.filter(student__in=student_ids_of(user))


class InvoiceSerializer(ModelSerializer):
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
    # Resolved among the caller's own students and their enrollments only: a foreign id is answered exactly like a
    # missing one. The service checks again that the student is the tutor's.
    student = ScopedIdRelatedField(queryset=User.objects.filter(role=Role.STUDENT), scope=students_of)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT)
    description = CharField(max_length=2000, allow_blank=True, required=False, default="")
    due_date = DateField()
    enrollment = ScopedIdRelatedField(
        queryset=Enrollment.objects.all(), scope=_enrollments_of, required=False, allow_null=True, default=None
    )


class InvoiceUpdateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT, required=False
    )
    description = CharField(max_length=2000, allow_blank=True, required=False)
    due_date = DateField(required=False)
    enrollment = ScopedIdRelatedField(
        queryset=Enrollment.objects.all(), scope=_enrollments_of, required=False, allow_null=True
    )


class InvoiceCancelSerializer(serializers.Serializer):
    reason = CharField(max_length=500, allow_blank=True, required=False, default="")


class InvoiceHistorySerializer(ModelSerializer):
    old = CharField(source="old_status", read_only=True)
    new = CharField(source="new_status", read_only=True)
    changed_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = InvoiceStatusHistory
        fields = ["id", "old", "new", "changed_by", "changed_at", "reason"]
        read_only_fields = fields


class PaymentStartedSerializer(serializers.Serializer):
    confirmation_url = serializers.URLField(read_only=True)


class StatusSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    totals = serializers.DictField(child=CharField(), help_text="Total amount per currency.")


class InvoiceSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_status = serializers.DictField(child=StatusSummarySerializer())
