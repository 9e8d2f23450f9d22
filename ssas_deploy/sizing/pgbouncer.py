"""PgBouncer in transaction mode in front of one database host."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import Derived


@dataclass(frozen=True)
class PgbouncerSizing:
    default_pool_size: Derived
    reserve_pool_size: Derived
    max_client_conn: Derived


def size_pgbouncer(cores: int, clients: list[tuple[str, int]]) -> PgbouncerSizing:
    """Pool sizes for a database host of `cores` cores and its app `clients` [(who, n)].

    The pool (2 x cores + 1, the PostgreSQL wiki's active-connection rule) never exceeds
    the app connections: more server connections than clients serve nobody, and the role's
    preflight refuses max_client_conn under default_pool_size (a 256-core host with a few
    clients did that).
    """
    client_total = sum(n for _, n in clients)
    by_cores = 2 * cores + 1
    pool = max(1, min(by_cores, client_total))
    reserve = max(2, cores // 2)
    max_client = int(client_total * 1.2) + 10
    return PgbouncerSizing(
        default_pool_size=Derived(
            pool, f"min(2 x {cores} cores + 1 = {by_cores}, {client_total} app connections)",
            "PostgreSQL wiki: active connections ~ 2 x cores + spindles",
        ),
        reserve_pool_size=Derived(reserve, f"max(2, {cores} cores / 2)", "bursts above the pool"),
        max_client_conn=Derived(
            max_client,
            " + ".join(f"{n} ({who})" for who, n in clients) + " x 1.2 + 10",
            "every app connection plus 20% headroom",
        ),
    )
