"""PgBouncer in transaction mode in front of one database host."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import Derived


@dataclass(frozen=True)
class PgbouncerSizing:
    default_pool_size: Derived
    reserve_pool_size: Derived
    max_client_conn: Derived


def size_pgbouncer(cores: int, clients: list[tuple[str, int]]) -> PgbouncerSizing:
    pool = 2 * cores + 1
    reserve = max(2, cores // 2)
    client_total = sum(n for _, n in clients)
    max_client = int(client_total * 1.2) + 10
    return PgbouncerSizing(
        default_pool_size=Derived(
            pool, f"2 x {cores} cores + 1",
            "PostgreSQL wiki: active connections ~ 2 x cores + spindles",
        ),
        reserve_pool_size=Derived(reserve, f"max(2, {cores} cores / 2)", "bursts above the pool"),
        max_client_conn=Derived(
            max_client,
            " + ".join(f"{n} ({who})" for who, n in clients) + " x 1.2 + 10",
            "every app connection plus 20% headroom",
        ),
    )
