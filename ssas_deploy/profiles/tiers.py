"""The guide's tier boundaries (students and peak concurrent users) and app fleet limits."""

from dataclasses import dataclass

from ssas_deploy.profiles.models import Tier


@dataclass(frozen=True)
class TierRange:
    students_min: int
    students_max: int | None
    peak_min: int
    peak_max: int | None
    # The most web servers and Celery worker hosts the tier grows to by scale-out (the guide:
    # large has 2-3 web servers); None where the tier grows by `migrate` or is pooled.
    web_max: int | None = None
    workers_max: int | None = None


TIER_RANGES: dict[Tier, TierRange] = {
    Tier.small: TierRange(200, 800, 20, 80),
    Tier.medium: TierRange(800, 1500, 80, 150),
    Tier.large: TierRange(1500, 3000, 150, 500, web_max=3, workers_max=3),
    Tier.very_large: TierRange(3000, None, 500, None),
}


def describe(low: int, high: int | None) -> str:
    return f"{low:,}-{high:,}" if high is not None else f"{low:,}+"
