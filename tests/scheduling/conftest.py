import pytest

from tests.accounts.factories import link_student
from tests.scheduling.factories import enroll


@pytest.fixture
def enrollment(student, teacher, tutor, parent):
    """`student` learns a subject with `teacher`; `tutor` and `parent` are the student's."""
    link_student(student, tutor=tutor, parent=parent)
    return enroll(student, teacher)
