"""Object-level limits: which students a signed-in user may see.

Admins and counsellors see every student; a teacher sees the students of the classes
assigned to them (accounts.ClassAssignment: school code + class name), and no student when
none is assigned. Every view that lists or aggregates students starts from here.
"""

from django.db.models import Q, QuerySet

from .models import Student
from .roles import ADMINS, COUNSELLORS, user_roles


def sees_every_student(user) -> bool:
    """True for admins, counsellors and superusers."""
    return bool(user_roles(user) & {ADMINS, COUNSELLORS})


def visible_students(user, students: QuerySet | None = None) -> QuerySet:
    """`students` (default: all) narrowed to what `user` may see."""
    students = Student.objects.all() if students is None else students
    if sees_every_student(user):
        return students
    classes = Q(pk__in=[])
    for school_code, class_name in user.class_assignments.values_list("school_code",
                                                                      "class_name"):
        classes |= Q(school__code=school_code, class_name=class_name)
    return students.filter(classes)
