"""How much demo data each scale makes. Counts of people are exact; lessons, messages and invoices are targets
that the generators reach to within a few per cent (they are spread over enrollments, rooms and billing pairs)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    students: int
    teachers: int
    tutors: int
    admins: int
    subjects: int
    lessons: int
    messages: int
    invoices: int
    materials_per_class: int  # per (teacher, subject) taught
    assignments_per_class: int
    files: int  # real files written to storage (materials, assignment attachments, submission files)


SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        students=50,
        teachers=6,
        tutors=4,
        admins=2,
        subjects=6,
        lessons=800,
        messages=4_000,
        invoices=400,
        materials_per_class=5,
        assignments_per_class=3,
        files=12,
    ),
    "medium": Scale(
        name="medium",
        students=1_000,
        teachers=60,
        tutors=40,
        admins=5,
        subjects=12,
        lessons=20_000,
        messages=200_000,
        invoices=20_000,
        materials_per_class=8,
        assignments_per_class=4,
        files=120,
    ),
    "large": Scale(
        name="large",
        students=10_000,
        teachers=600,
        tutors=400,
        admins=10,
        subjects=20,
        lessons=200_000,
        messages=2_000_000,
        invoices=200_000,
        materials_per_class=8,
        assignments_per_class=4,
        files=400,
    ),
}
