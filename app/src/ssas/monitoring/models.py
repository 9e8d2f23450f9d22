from django.conf import settings
from django.db import models


class UserActivity(models.Model):
    """Last time a user made a request; shared by all web hosts for ssas_active_users."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.last_seen}"
