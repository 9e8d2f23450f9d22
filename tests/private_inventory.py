"""An inventory as a school would write it: every host on a private address (10.20.G.N)."""

from ssas_deploy.profiles.models import HostSpec, Role
from ssas_deploy.topology import NAME_PREFIX, Placement, SshTarget


def private_addresses(profile) -> dict[Role, Placement]:
    """Role -> Placement for each host group of `profile`: names as the CLI makes them
    (web-1, db-1, ...), group G's hosts on 10.20.G.10, .11, ..."""
    placements = {}
    for group, role in enumerate(Role, start=1):
        spec = profile.hosts.spec(role)
        if isinstance(spec, HostSpec):
            names = [f"{NAME_PREFIX[role]}-{i + 1}" for i in range(spec.count)]
            placements[role] = Placement(names, [f"10.20.{group}.{i + 10}" for i in
                                                 range(spec.count)], [SshTarget()] * spec.count)
    return placements
