"""Demo data at any scale for `manage.py seed_demo` (one module per app; `scales.py` says how much).

Deterministic: one `random.Random(seed)` drives every choice, so a scale and seed always give the same people,
links, counts and shapes, whatever the time of seeding. Every generator places its rows relative to one anchor,
midnight (UTC) of the seeding day (`World.now`), and decides past or future against that anchor, never against
the clock: seeding at 00:30 or at 23:30, on a Sunday or a Monday, gives the same rows, shifted by whole days.
(Only the Telegram link codes are stamped on the clock, so that they are still valid after seeding.)
Fast: rows are built in memory and bulk-inserted in batches (no per-row services, no signals), the password is
hashed once for everyone.
Idempotent by detection: the demo users live under `@demo.thebot`; when bulk demo users exist already, a run
inserts nothing, only resets the demo password (and re-activates the login pool) and rewrites the logins file.
To reseed at another scale, start from an empty database (`manage.py flush`).
"""

import random
import time

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User
from assignments.models import Assignment, AssignmentAttachment, Submission, SubmissionFile
from chat.models import ChatRoom, Message, Participant
from demo.seeding.billing import invoices_create
from demo.seeding.bulk import historical_timestamps
from demo.seeding.chat import chat_create
from demo.seeding.files import FileBudget
from demo.seeding.homework import assignments_create
from demo.seeding.learning import materials_create, subjects_and_enrollments_create
from demo.seeding.lessons import lessons_create
from demo.seeding.people import DEMO_LOGINS, POOL_SIZE, demo_email, people_create, pool_email
from demo.seeding.scales import SCALES
from demo.seeding.world import DEMO_DOMAIN, World
from enrollments.models import Enrollment
from invoices.models import Invoice, Payment
from materials.models import Material, MaterialProgress
from notifications.models import TelegramLinkCode
from scheduling.models import CalendarFeed, Lesson, LessonReminder

__all__ = ["SCALES", "seed_demo"]

# Models whose auto_now(_add) timestamps the seeder writes itself (see bulk.historical_timestamps).
TIMESTAMPED = [
    Enrollment, Material, MaterialProgress, Lesson, LessonReminder, CalendarFeed, Assignment, AssignmentAttachment,
    Submission, SubmissionFile, ChatRoom, Participant, Message, Invoice, Payment, TelegramLinkCode,
]  # fmt: skip


def seed_demo(*, scale: str, seed: int, password: str) -> dict:
    """Seed (or find) the demo data; returns what the logins file holds plus `created`, `counts`, `seconds` and
    `steps` (seconds per generator)."""
    started = time.monotonic()
    password_hash = make_password(password)
    counts: dict[str, int] = {}
    steps: dict[str, float] = {}
    if connection.vendor == "sqlite":
        # One long write transaction: with SQLite's default 2 MB page cache it spills to the WAL again and again.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB, this connection only
    with transaction.atomic():
        present = _bulk_demo_present()
        if present:
            scale = _scale_present()
            demo = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
            # Rewrite every demo user's row only when the password really changes: on `large` that is 17 864
            # rows, which a rerun (each `make run`) would otherwise leave behind as dead tuples.
            if not demo.get(email=demo_email("admin")).check_password(password):
                demo.update(password=password_hash)
        else:
            world = World(
                rng=random.Random(seed),  # nosec B311  # reproducible demo data from a seed, not a secret
                scale=SCALES[scale],
                now=timezone.now().replace(hour=0, minute=0, second=0, microsecond=0),
                password_hash=password_hash,
            )
            with historical_timestamps(*TIMESTAMPED):
                steps = _generate(world)
            counts = dict(world.counts)
        logins, pool = _logins(password)
        User.objects.filter(pk__in=[login["id"] for login in logins.values()]).update(is_active=True)
    if not present:
        _analyze()
    return {
        "scale": scale,
        "seed": seed,
        "logins": logins,
        "pool": pool,
        "created": not present,
        "counts": counts,
        "seconds": round(time.monotonic() - started, 2),
        "steps": steps,
    }


def _generate(world: World) -> dict[str, float]:
    """Run each app's generator in dependency order; returns seconds per step."""
    files = FileBudget(world.scale.files)
    steps = {
        "people": lambda: people_create(world),
        "enrollments": lambda: subjects_and_enrollments_create(world),
        "materials": lambda: materials_create(world, files),
        "lessons": lambda: lessons_create(world),
        "assignments": lambda: assignments_create(world, files),
        "chat": lambda: chat_create(world),
        "invoices": lambda: invoices_create(world),
    }
    seconds = {}
    for name, step in steps.items():
        started = time.monotonic()
        step()
        seconds[name] = round(time.monotonic() - started, 2)
    return seconds


def _analyze() -> None:
    """Fresh planner statistics for the tables just filled. Until autovacuum gets to them, PostgreSQL plans with
    the sizes it saw before the bulk load: on `large` it estimated 2 108 users for 17 864 and chose hash joins
    over the whole users table for a page of 20 invoices.

    Only our own tables: a bare ANALYZE on PostgreSQL also takes the cluster-wide catalogs (pg_database, pg_authid,
    ...) and holds their lock until the transaction ends. Seeded inside a longer transaction (tests/fuzz/ seeds in
    one rolled back at the end of the module) that blocked every other database's ANALYZE of them until then: the
    other xdist worker's seeding waited past its timeout."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
            return
        models = apps.get_models(include_auto_created=True)
        tables = sorted({model._meta.db_table for model in models if model._meta.managed and not model._meta.proxy})
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


def _bulk_demo_present() -> bool:
    demo = [demo_email(role) for role in DEMO_LOGINS]
    return User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exclude(email__in=demo).exists()


def _scale_present() -> str:
    students = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role=Role.STUDENT).count()
    return min(SCALES.values(), key=lambda s: abs(s.students - students)).name


def _logins(password: str) -> tuple[dict, dict]:
    """The one-per-role logins (created when missing: an old database may have lost one) and the pool."""
    users = {user.email: user for user in User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", is_active=True)}
    logins = {}
    for role, (first, last) in DEMO_LOGINS.items():
        user = users.get(demo_email(role)) or User.objects.filter(email=demo_email(role)).first()
        if user is None:
            user = User.objects.create_user(demo_email(role), password, role=role, first_name=first, last_name=last)
        logins[role] = {"email": user.email, "password": password, "id": user.pk}
    pool = {
        role: [
            {"email": user.email, "password": password, "id": user.pk}
            for n in range(1, POOL_SIZE + 1)
            if (user := users.get(pool_email(role, n))) is not None
        ]
        for role in DEMO_LOGINS
    }
    return logins, pool


# Profiles are made together with their users (people.py); listed here so that a reader sees every model seeded.
PROFILE_MODELS = (StudentProfile, TeacherProfile, TutorProfile, ParentProfile)
