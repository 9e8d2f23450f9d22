"""Can a school's data move from profile A to profile B? Pure checks, no hosts touched."""

from pathlib import Path

from ssas_deploy.errors import Problem
from ssas_deploy.profiles.models import Profile, Role


def shard_count(profile: Profile) -> int:
    """Number of database shard hosts the profile has (0: not sharded)."""
    spec = profile.hosts.spec(Role.database_shard)
    return getattr(spec, "count", 0) if spec is not None else 0


def migration_problems(source: Profile, target: Profile, source_file: Path | None,
                       target_file: Path | None) -> list[Problem]:
    """Every reason the data of `source` cannot move to `target` (empty: it can).

    A target needs at least the source's database capabilities: PostgreSQL data does not
    go back to SQLite, and a sharded school does not go to fewer shards. Sharded
    deployments are not migrated by this version at all (only the `default` database
    is copied), so they are refused rather than half-copied.
    """
    problems = []
    if source.database.engine == "postgresql" and target.database.engine == "sqlite":
        problems.append(Problem(target_file, None, "database.engine",
                                "the target uses sqlite but the source's data is on "
                                "postgresql: a migration never moves to fewer database "
                                "capabilities"))
    source_shards, target_shards = shard_count(source), shard_count(target)
    if target_shards < source_shards:
        problems.append(Problem(target_file, None, "hosts.database_shard",
                                f"the target has {target_shards} shard(s) but the source's "
                                f"data is spread over {source_shards}: shards cannot be "
                                "merged by a migration"))
    elif source_shards or target_shards:
        problems.append(Problem(target_file if target_shards else source_file, None,
                                "hosts.database_shard",
                                "sharded deployments are not migrated by this version "
                                "(only the default database would be copied)"))
    return problems


def overlapping_addresses(source_hosts, target_hosts) -> list[str]:
    """Addresses that appear in both topologies (a migration needs new target hosts)."""
    source = {h.address for h in source_hosts}
    return sorted({h.address for h in target_hosts} & source)
