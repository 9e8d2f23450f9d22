"""Seeded random deployments over what the profile schema allows, for the hardware property
tests (tests/unit/test_hardware_extremes.py derives their values; the daemons judge a few in
tests/rendering/test_validators.py).

A sample is a layout and its hardware. The layout keeps every built-in tier's roles but
varies which share a host (any role but the backup, the replicas and the shards may be
colocated on any single dedicated host; the small tier's local cache keeps it on one
server, whose anchor varies) and the counts the profile accepts: web 1..64 behind a
dedicated load balancer (1 without one), replicas 2..64 (a Patroni quorum), Redis groups 1
or 3 (Sentinel's majority), shards and Celery hosts 1..64. The hardware is anything the
schema allows (cores 1..256, RAM 0.5..4096 GiB, disk 5..100000 GiB, ssd/hdd). The shapes the
profile refuses are tested on their own (test_hardware_extremes.REFUSED_SHAPES).

RAM under a service's floor is refused naming the least that works; `accepted_profile`
raises every named host group to its minimum and loads that, which must then be accepted.
"""

import random
import re
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import load_profile_with_warnings
from ssas_deploy.profiles.models import HostSpec, Role

TIERS = ["small", "medium", "large", "very-large"]
# Roles that never share another's host here: the backup keeps only backups, and a replica
# or a shard is a server of its own by design.
NEVER_COLOCATED = {Role.backup, Role.database_replica, Role.database_shard}
MINIMUM = re.compile(r"^hosts\.(\w+)\.ram_gib: .* at least ([\d.]+) GiB works")
NO_MINIMUM = "not even the schema's"


@dataclass
class Sample:
    label: str
    base: str
    hosts: dict[Role, dict]  # a HostSpec's fields, or {"colocate": role}

    def text(self, name: str | None = None) -> str:
        lines = [f"name: {name or self.label.replace('#', '-').replace('@', '-')}",
                 f"extends: {self.base}", "hosts:"]
        for role, spec in self.hosts.items():
            body = ", ".join(f"{k}: {v.value if isinstance(v, Role) else v}"
                             for k, v in spec.items())
            lines.append(f"  {role.value}: {{{body}}}")
        return "\n".join(lines) + "\n"

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.label.replace('#', '-').replace('@', '-')}.yaml"
        path.write_text(self.text(), encoding="utf-8")
        return path


def base_roles(base: str) -> list[Role]:
    profile, _ = load_profile_with_warnings(base)
    return [r for r in Role if profile.hosts.spec(r) is not None]


def random_hardware(rng: random.Random) -> dict:
    ram = rng.choice([0.5, 1, 2, 4, 8, 16, 64, 256, 1024, 4096, rng.uniform(0.5, 4096)])
    return {"cpu_cores": rng.choice([1, 2, 4, 16, 32, 256, rng.randint(1, 256)]),
            "ram_gib": max(0.5, round(ram * 2) / 2),
            "disk_gib": rng.choice([5, 100, 100_000, rng.randint(5, 100_000)]),
            "storage": rng.choice(["ssd", "hdd"])}


def _count(rng: random.Random, role: Role, has_balancer: bool) -> int:
    if role in (Role.redis_cache, Role.redis_broker):
        return rng.choice([1, 3])
    if role is Role.database_replica:
        return rng.choice([2, 3, rng.randint(2, 64)])
    if role is Role.web and not has_balancer:
        return 1
    if role in (Role.database, Role.backup, Role.load_balancer):
        return 1
    return rng.choice([1, 2, rng.randint(1, 64)])


def random_sample(rng: random.Random, base: str, label: str) -> Sample:
    roles = base_roles(base)
    if base == "small":
        # cache: local needs one server: every role but the backup on one anchor.
        anchor = rng.choice([r for r in roles if r not in NEVER_COLOCATED])
        hosts = {r: {"colocate": anchor} for r in roles if r not in (anchor, Role.backup)}
        hosts[anchor] = {"count": 1, **random_hardware(rng)}
        hosts[Role.backup] = {"count": 1, **random_hardware(rng)}
        return Sample(label, base, hosts)
    movable = [r for r in roles if r not in NEVER_COLOCATED]
    colocated = {r for r in movable if rng.random() < 0.4}
    if len(colocated) == len(movable):
        colocated.discard(rng.choice(movable))
    dedicated = [r for r in roles if r not in colocated]
    has_balancer = Role.load_balancer in dedicated
    counts = {r: _count(rng, r, has_balancer) for r in dedicated}
    # A colocated role shares a single host; make one if every candidate has several.
    targets = [r for r in dedicated if r not in NEVER_COLOCATED and counts[r] == 1]
    if colocated and not targets:
        target = rng.choice([r for r in dedicated if r not in NEVER_COLOCATED])
        counts[target] = 1
        targets = [target]
    if Role.load_balancer in colocated and counts.get(Role.web, 1) > 1:
        counts[Role.web] = 1  # several web servers need a balancer of their own
    hosts = {r: {"colocate": rng.choice(targets)} for r in roles if r in colocated}
    hosts.update({r: {"count": counts[r], **random_hardware(rng)} for r in dedicated})
    return Sample(label, base, hosts)


def corner(base: str, most: bool) -> Sample:
    """Every dedicated host of `base` at the schema's least or most hardware (the least
    RAM is then raised to the named minimum by accepted_profile)."""
    profile, _ = load_profile_with_warnings(base)
    hosts = {}
    for role in Role:
        spec = profile.hosts.spec(role)
        if isinstance(spec, HostSpec):
            hardware = ({"cpu_cores": 256, "ram_gib": 4096, "disk_gib": 100_000,
                         "storage": "ssd"} if most else
                        {"cpu_cores": 1, "ram_gib": 0.5, "disk_gib": 5, "storage": "hdd"})
            hosts[role] = {"count": spec.count, **hardware}
    return Sample(f"{base}@{'most' if most else 'least'}", base, hosts)


def samples(seed: int, per_tier: int, tiers=TIERS) -> list[Sample]:
    rng = random.Random(seed)
    return [random_sample(rng, base, f"{base}#{i}") for base in tiers for i in range(per_tier)]


def minima(refused: InvalidInputError) -> dict[Role, float] | None:
    """{role: least RAM that works} from a refusal made only of RAM floors; None when a
    problem names no minimum (or is not about RAM)."""
    out = {}
    for problem in refused.problems:
        match = MINIMUM.match(f"{problem.field}: {problem.message}")
        if not match:
            return None
        out[Role(match.group(1))] = float(match.group(2))
    return out


def accepted_profile(sample: Sample, directory: Path):
    """(profile, raised): the sample's profile, with every host group a refusal names raised
    to its named minimum RAM (raised: those groups). Raises the InvalidInputError of a
    refusal that names no minimum, or of the raised profile (the minimum did not work)."""
    try:
        profile, _ = load_profile_with_warnings(str(sample.write(directory)))
        return profile, {}
    except InvalidInputError as refused:
        least = minima(refused)
        if least is None:
            raise
    raised = Sample(sample.label + "@named-minimum", sample.base,
                    {r: ({**s, "ram_gib": least[r]} if r in least else s)
                     for r, s in sample.hosts.items()})
    profile, _ = load_profile_with_warnings(str(raised.write(directory)))
    return profile, least
