from rest_framework.permissions import SAFE_METHODS, BasePermission

from ssas.students.roles import ADMINS, COUNSELLORS, TEACHERS, user_roles


class RolePermission(BasePermission):
    """Teachers read, admins read and write."""

    def has_permission(self, request, view) -> bool:
        roles = user_roles(request.user)
        if request.method in SAFE_METHODS:
            return bool(roles)
        return ADMINS in roles


class TeachersMayRequest(RolePermission):
    """Requesting a report only reads data, so teachers and counsellors may POST too (which
    reports a teacher may see: ReportViewSet)."""

    def has_permission(self, request, view) -> bool:
        return bool(user_roles(request.user) & {TEACHERS, COUNSELLORS, ADMINS})
