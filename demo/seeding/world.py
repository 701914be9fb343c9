"""What the generators share: the random source, the clock, and the people and classes made so far."""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from demo.seeding.scales import Scale
from enrollments.models import Enrollment, Subject

DEMO_DOMAIN = "demo.thebot"


@dataclass
class World:
    rng: random.Random
    scale: Scale
    # The anchor of every timestamp: midnight (UTC) of the seeding day. Past lessons, messages and invoices lie
    # before it, future ones after; no generator looks at the clock, so the hour of seeding changes nothing.
    now: datetime
    password_hash: str
    demo: dict[str, int] = field(default_factory=dict)  # role -> id of the one-per-role demo login
    pool: dict[str, list[int]] = field(default_factory=dict)  # role -> further logins for the load scripts
    students: list[int] = field(default_factory=list)
    teachers: list[int] = field(default_factory=list)
    tutors: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    tutor_of: dict[int, int | None] = field(default_factory=dict)
    parent_of: dict[int, int | None] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # user id -> first name, for message texts
    subjects: list[Subject] = field(default_factory=list)
    teaches: dict[int, list[int]] = field(default_factory=dict)  # teacher -> subject ids
    enrollments: list[Enrollment] = field(default_factory=list)  # active and ended ones made here
    counts: Counter = field(default_factory=Counter)

    @property
    def active_enrollments(self) -> list[Enrollment]:
        return [enrollment for enrollment in self.enrollments if enrollment.is_active]

    def subject_name(self, subject_id: int) -> str:
        return next(subject.name for subject in self.subjects if subject.pk == subject_id)
