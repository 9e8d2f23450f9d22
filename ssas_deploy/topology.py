"""Which hosts exist and which roles each one plays, from a profile (+ inventory)."""

from dataclasses import dataclass, field

from ssas_deploy.profiles.models import Colocated, HostSpec, Profile, Role

NAME_PREFIX = {
    Role.load_balancer: "lb",
    Role.web: "web",
    Role.database: "db",
    Role.database_replica: "db-replica",
    Role.database_shard: "db-shard",
    Role.backup: "backup",
    Role.redis_cache: "cache",
    Role.redis_broker: "broker",
    Role.celery_worker: "worker",
}


@dataclass(frozen=True)
class SshTarget:
    user: str = "root"
    port: int = 22
    key_file: str | None = None
    # The inventory's pinned host keys (`<inventory>.known_hosts`): every SSH path checks them.
    known_hosts: str | None = None


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    group: Role  # the role whose hardware spec this host was created for
    index: int  # 0-based position within its group (0 = primary where that matters)
    roles: frozenset[Role]
    hardware: HostSpec
    ssh: SshTarget = field(default_factory=SshTarget)

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Topology:
    hosts: tuple[Host, ...]

    def with_role(self, role: Role) -> list[Host]:
        return [h for h in self.hosts if role in h.roles]

    def first(self, role: Role) -> Host | None:
        found = self.with_role(role)
        return found[0] if found else None

    def by_name(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    @property
    def single_server(self) -> bool:
        return len(self.hosts) == 1


@dataclass(frozen=True)
class Placement:
    """Where the inventory put a group's hosts: names, addresses and SSH details."""

    names: list[str]
    addresses: list[str]
    ssh: list[SshTarget]


def build_topology(profile: Profile, placements: dict[Role, Placement] | None = None) -> Topology:
    colocated_on: dict[Role, set[Role]] = {}
    for role in Role:
        spec = profile.hosts.spec(role)
        if isinstance(spec, Colocated):
            colocated_on.setdefault(spec.colocate, set()).add(role)
    hosts: list[Host] = []
    for role in Role:
        spec = profile.hosts.spec(role)
        if not isinstance(spec, HostSpec):
            continue
        roles = frozenset({role, *colocated_on.get(role, ())})
        placement = (placements or {}).get(role)
        for index in range(spec.count):
            name = placement.names[index] if placement else f"{NAME_PREFIX[role]}-{index + 1}"
            address = placement.addresses[index] if placement else name
            ssh = placement.ssh[index] if placement else SshTarget()
            hosts.append(Host(name, address, role, index, roles, spec, ssh))
    return Topology(tuple(hosts))
