"""Which classes a teacher teaches: what limits the students a teacher can see.

Stored beside the accounts (the default database), with the school as its code rather than
a foreign key: with school-keyed shards a school's rows live on another database, and
Django has no cross-database relations.
"""

from django.conf import settings
from django.db import models


class ClassAssignment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="class_assignments")
    school_code = models.SlugField(max_length=40)
    class_name = models.CharField(max_length=20)

    class Meta:
        ordering = ["school_code", "class_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "school_code", "class_name"],
                                    name="uniq_class_per_teacher"),
        ]

    def __str__(self) -> str:
        return f"{self.school_code} {self.class_name}"


class PendingImport(models.Model):
    """Files uploaded in the admin's data import, kept between the preview and the confirm
    (a dry run is shown first). In the database, not the media directory: student data stays
    where the rest of it is (and out of the media backups); removed on confirm or cancel,
    and any older than an hour on the next upload (and no longer confirmable)."""

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    archive = models.BinaryField()  # the uploaded files as one tar stream
    skip_bad_rows = models.BooleanField(default=False)
    school_code = models.SlugField(max_length=40, blank=True)  # for rows without a school
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"import {self.id} by {self.user_id}"
