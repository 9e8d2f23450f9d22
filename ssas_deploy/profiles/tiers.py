"""The guide's tier boundaries (students and peak concurrent users)."""

from dataclasses import dataclass

from ssas_deploy.profiles.models import Tier


@dataclass(frozen=True)
class TierRange:
    students_min: int
    students_max: int | None
    peak_min: int
    peak_max: int | None


TIER_RANGES: dict[Tier, TierRange] = {
    Tier.small: TierRange(200, 800, 20, 80),
    Tier.medium: TierRange(800, 1500, 80, 150),
    Tier.large: TierRange(1500, 3000, 150, 500),
    Tier.very_large: TierRange(3000, None, 500, None),
}


def describe(low: int, high: int | None) -> str:
    return f"{low:,}-{high:,}" if high is not None else f"{low:,}+"
