"""Invoices from tutors to parents over the past two years, with status history, payments and link codes.

Each invoice's life follows `invoices.services.TRANSITIONS`, stamped in order (created ≤ sent ≤ viewed ≤ paid,
all in the past); a history row per transition; a paid invoice points at its succeeded payment."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from demo.seeding.bulk import insert, insert_fast, next_ids
from demo.seeding.world import World
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, InvoiceStatusHistory, Payment, PaymentStatus
from notifications.models import TelegramLinkCode

S = InvoiceStatus
PERIOD = timedelta(days=30)


@dataclass
class InvoicePlan:
    invoice: Invoice
    history: list[tuple[str, str, int | None, datetime, str]] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


def invoices_create(world: World) -> None:
    rng = world.rng
    pairs = [
        (s, world.tutor_of[s], world.parent_of[s]) for s in world.students if world.tutor_of[s] and world.parent_of[s]
    ]
    enrollments_of: dict[int, list] = {}
    for enrollment in world.active_enrollments:
        enrollments_of.setdefault(enrollment.student_id, []).append(enrollment)
    per_pair = world.scale.invoices / max(1, len(pairs))
    plans = []
    for student, tutor, parent in pairs:
        rate = Decimal(rng.randrange(1500, 4001, 100))
        count = int(per_pair + rng.random())
        for number in range(count):
            created = (
                world.now
                - PERIOD * (count - number)
                + timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(1440))
            )
            enrollment = rng.choice(enrollments_of.get(student, [None]))
            lessons = rng.randint(3, 8)
            invoice = Invoice(
                tutor_id=tutor,
                student_id=student,
                parent_id=parent,
                enrollment_id=enrollment.pk if enrollment else None,
                amount=rate * lessons,
                currency="RUB",
                description=f"{lessons} lessons, {created:%B %Y}",
                due_date=created.date() + timedelta(days=14),
                created_at=created,
            )
            invoice.seed_line = (lessons, rate)  # its one line, written with it (the amount is the sum of the lines)
            plans.append(_life(world, InvoicePlan(invoice)))
    payment_ids = iter(next_ids(Payment, sum(len(plan.payments) for plan in plans)))
    for plan in plans:
        for payment in plan.payments:
            payment.id = next(payment_ids)
        if plan.payments:
            plan.invoice.payment_id = plan.payments[-1].id
    with transaction.atomic():  # an invoice and its lines in one transaction (PostgreSQL checks the sum at commit)
        insert_fast(Invoice, [plan.invoice for plan in plans])
        insert_fast(
            InvoiceLine,
            [
                InvoiceLine(
                    invoice_id=plan.invoice.pk,
                    description=plan.invoice.description,
                    quantity=plan.invoice.seed_line[0],
                    unit_price=plan.invoice.seed_line[1],
                    amount=plan.invoice.amount,
                    created_at=plan.invoice.created_at,
                )
                for plan in plans
            ],
        )
    for plan in plans:
        for payment in plan.payments:
            payment.invoice_id = plan.invoice.pk
    insert_fast(Payment, [payment for plan in plans for payment in plan.payments])
    insert_fast(
        InvoiceStatusHistory,
        [
            InvoiceStatusHistory(
                invoice_id=plan.invoice.pk, old_status=old, new_status=new, changed_by_id=by, changed_at=at, reason=why
            )
            for plan in plans
            for old, new, by, at, why in plan.history
        ],
    )
    _link_codes_create(world)
    world.counts["invoices"] = len(plans)


def _life(world: World, plan: InvoicePlan) -> InvoicePlan:
    """Walk the invoice through a realistic path for its age; each step after the previous, none after the anchor.
    Past due means a due date before the seeding day, as `invoices_mark_overdue` sees it."""
    rng, now, invoice = world.rng, world.now, plan.invoice
    overdue_at = datetime.combine(invoice.due_date + timedelta(days=1), time(3), tzinfo=UTC)
    if invoice.due_date < now.date():
        weights = {"paid": 80, "overdue": 8, "overdue_paid": 6, "cancelled": 6}
    else:
        weights = {"draft": 15, "sent": 30, "viewed": 25, "pending": 5, "paid": 20, "cancelled": 5}
    path = rng.choices(list(weights), weights=list(weights.values()))[0]
    at = invoice.created_at

    def step(new: str, by: int | None, hours: int, reason: str = "", not_before: datetime | None = None) -> datetime:
        nonlocal at
        at = max(at, min(now, at + timedelta(hours=rng.uniform(0.1, hours))))
        if not_before is not None:
            at = max(at, min(now, not_before))
        plan.history.append((invoice.status, new, by, at, reason))
        invoice.status = new
        return at

    invoice.status, invoice.updated_at = S.DRAFT, at
    if path == "draft":
        return plan
    if path == "cancelled" and rng.random() < 0.4:
        step(S.CANCELLED, invoice.tutor_id, 48, "Issued by mistake")
        invoice.updated_at = at
        return plan
    invoice.sent_at = step(S.SENT, invoice.tutor_id, 3)
    if path in ("overdue", "overdue_paid"):
        step(S.OVERDUE, None, 1, "due date passed", not_before=overdue_at)
        if path == "overdue_paid":
            invoice.paid_at = step(S.PAID, None, 24 * 7, "payment succeeded")
            _payment(plan, PaymentStatus.SUCCEEDED, invoice.paid_at, world)
    elif path == "cancelled":
        step(S.CANCELLED, invoice.tutor_id, 72, "Lessons were rescheduled")
    elif path != "sent":
        invoice.viewed_at = step(S.VIEWED, invoice.parent_id, 48, "payment started" if path == "paid" else "")
        if path in ("paid", "pending") and rng.random() < 0.05:  # an abandoned first attempt
            _payment(plan, PaymentStatus.CANCELED, at, world)
        if path == "pending":
            _payment(plan, PaymentStatus.PENDING, at, world)
        if path == "paid":
            invoice.paid_at = step(S.PAID, None, 12, "payment succeeded")
            _payment(plan, PaymentStatus.SUCCEEDED, invoice.paid_at, world)
    invoice.updated_at = at
    return plan


def _payment(plan: InvoicePlan, status: str, at: datetime, world: World) -> None:
    rng, invoice = world.rng, plan.invoice
    provider_id = f"{rng.getrandbits(128):032x}"
    plan.payments.append(
        Payment(
            provider="yookassa",
            provider_payment_id=provider_id,
            amount=invoice.amount,
            currency=invoice.currency,
            status=status,
            idempotence_key=f"{rng.getrandbits(128):032x}",
            confirmation_url=f"https://yoomoney.example/checkout/{provider_id}",
            created_at=max(invoice.created_at, at - timedelta(minutes=rng.randrange(1, 20))),
            updated_at=at,
        )
    )


def _link_codes_create(world: World) -> None:
    """Telegram link codes some parents asked for and have not used yet (only their hash is stored)."""
    rng = world.rng
    asked = timezone.now()  # still valid after seeding: the only timestamp placed on the clock, not the anchor
    rows = [
        TelegramLinkCode(
            user_id=parent,
            code_hash=hashlib.sha256(f"{rng.getrandbits(128):032x}".encode()).hexdigest(),
            expires_at=asked + timedelta(minutes=15),
            created_at=asked,
        )
        for parent in world.parents
        if rng.random() < 0.05
    ]
    world.counts["telegram_link_codes"] = len(insert(TelegramLinkCode, rows))
