"""A small classroom shared by the materials tests.

Subject "math": teacher T teaches students S1 and S2 (active), teacher T2 teaches S3 in the same subject.
S1 has tutor TU and parent P; S3 has parent P3.
"""

from types import SimpleNamespace

import pytest

from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory


@pytest.fixture
def room(db):
    math = SubjectFactory(name="Math")
    teacher, other_teacher = TeacherFactory(), TeacherFactory()
    tutor, parent, other_parent = TutorFactory(), ParentFactory(), ParentFactory()
    s1, s2, s3 = StudentFactory(), StudentFactory(), StudentFactory()
    link_student(s1, tutor=tutor, parent=parent)
    link_student(s3, parent=other_parent)
    EnrollmentFactory(student=s1, subject=math, teacher=teacher)
    EnrollmentFactory(student=s2, subject=math, teacher=teacher)
    EnrollmentFactory(student=s3, subject=math, teacher=other_teacher)
    return SimpleNamespace(
        math=math,
        teacher=teacher,
        other_teacher=other_teacher,
        tutor=tutor,
        parent=parent,
        other_parent=other_parent,
        s1=s1,
        s2=s2,
        s3=s3,
        admin=AdminFactory(),
    )
