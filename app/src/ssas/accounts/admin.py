"""The user admin with each teacher's classes edited inline."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from .models import ClassAssignment


class ClassAssignmentInline(admin.TabularInline):
    model = ClassAssignment
    extra = 1
    verbose_name = "class taught"
    verbose_name_plural = "classes taught (teachers see only these students)"


admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ClassAssignmentInline]
