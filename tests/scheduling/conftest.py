import pytest

from tests.accounts.factories import link_student
from tests.materials.factories import EnrollmentFactory


@pytest.fixture
def enrollment(student, teacher, tutor, parent):
    """`student` learns a subject with `teacher`; `tutor` and `parent` are the student's."""
    link_student(student, tutor=tutor, parent=parent)
    return EnrollmentFactory(student=student, teacher=teacher)
