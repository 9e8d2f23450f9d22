from django.db import models


class SchoolShard(models.Model):
    """Which shard holds a school (the map lives on `default`), and its write freeze."""

    code = models.SlugField(max_length=40, unique=True)
    alias = models.CharField(max_length=40, db_index=True)
    # Writes to the school are refused until this time (move_school sets and lifts it).
    frozen_until = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} -> {self.alias}"
