"""Row locks of the materials app, always taken in primary-key order."""

from enrollments.models import Enrollment
from materials.models import MaterialProgress


def progress_for_update(*, student_id: int, material_id: int) -> MaterialProgress:
    """The progress row of a student and a material, created if missing, locked until the transaction ends.

    Creation ignores a conflicting concurrent insert, so two first updates of the same pair never fail.
    """
    MaterialProgress.objects.bulk_create(
        [MaterialProgress(student_id=student_id, material_id=material_id)], ignore_conflicts=True
    )
    return (
        MaterialProgress.objects.select_for_update(of=("self",))
        .select_related("student")
        .get(student_id=student_id, material_id=material_id)
    )


def enrollment_for_update(pk: int) -> Enrollment:
    return Enrollment.objects.select_for_update().get(pk=pk)
