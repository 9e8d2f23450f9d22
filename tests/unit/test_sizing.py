import pytest

from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.celery import QUEUES, size_worker_groups, visibility_timeout
from ssas_deploy.sizing.derived import GIB, MIB, pg_size
from ssas_deploy.sizing.gunicorn import peak_request_rate, size_gunicorn, worker_recycling
from ssas_deploy.sizing.postgresql import connections, size_postgresql
from ssas_deploy.sizing.redis import size_redis
from ssas_deploy.sizing.shares import os_reserve_kb, share_of


def dedicated(role, cores, ram_gib):
    return share_of(role, frozenset({role}), cores, ram_gib)


def test_pg_size_uses_postgresql_units():
    assert pg_size(4 * GIB) == "4GB"
    assert pg_size(512 * MIB) == "512MB"
    assert pg_size(640) == "640kB"


def test_os_reserve_is_bounded():
    assert os_reserve_kb(4 * GIB) == GIB // 2
    assert os_reserve_kb(64 * GIB) == 2 * GIB


def test_pgtune_formulas_on_a_dedicated_16_gib_host():
    share = dedicated(Role.database, 8, 16)
    r = 16 * GIB - int(16 * GIB * 0.10)
    assert share.ram_kb.value == r
    max_conn = connections([("web", 100)], pooled=False)
    assert max_conn.value == 113  # 100 + 3 reserved + 10 headroom
    pg = size_postgresql(share, 8, "ssd", max_conn)
    assert pg.value("shared_buffers") == pg_size(r // 4)
    assert pg.value("effective_cache_size") == pg_size(r * 3 // 4)
    assert pg.value("maintenance_work_mem") == pg_size(r // 16)
    expected_work_mem = (r - r // 4) // ((113 + 8) * 3)
    assert pg.value("work_mem") == pg_size(expected_work_mem)
    assert pg.value("random_page_cost") == 1.1
    assert pg.value("max_parallel_workers_per_gather") == 4
    assert pg.value("wal_buffers") == "16MB"


def test_hdd_changes_io_costs():
    pg = size_postgresql(dedicated(Role.database, 2, 4), 2, "hdd",
                         connections([("web", 10)], pooled=False))
    assert pg.value("random_page_cost") == 4.0
    assert pg.value("effective_io_concurrency") == 2
    assert "max_parallel_workers_per_gather" not in pg.settings


def test_work_mem_shrinks_as_connections_grow():
    share = dedicated(Role.database, 8, 16)
    few = size_postgresql(share, 8, "ssd", connections([("a", 20)], pooled=False))
    many = size_postgresql(share, 8, "ssd", connections([("a", 400)], pooled=False))
    assert int(few.value("work_mem")[:-2]) > int(many.value("work_mem")[:-2])


def test_pgtune_caps_maintenance_work_mem_at_8_gb_and_autovacuum_work_mem_at_2_gb():
    few = connections([("web", 10)], pooled=False)
    big = size_postgresql(dedicated(Role.database, 8, 256), 8, "ssd", few)
    assert big.value("maintenance_work_mem") == "8GB"  # R / 16 is ~14.2 GB
    assert big.value("autovacuum_work_mem") == "2GB"
    mid = size_postgresql(dedicated(Role.database, 8, 40), 8, "ssd", few)
    assert mid.value("maintenance_work_mem") == pg_size((40 * GIB - 2 * GIB) // 16)
    assert mid.value("autovacuum_work_mem") == "2GB"  # maintenance_work_mem is 2.4 GB
    small = size_postgresql(dedicated(Role.database, 8, 16), 8, "ssd", few)
    assert "autovacuum_work_mem" not in small.settings  # 921 MB: PostgreSQL's -1 stays


def test_pgtune_work_mem_floor_is_4_mb():
    share = dedicated(Role.database, 2, 2)
    crowded = size_postgresql(share, 2, "ssd", connections([("web", 2000)], pooled=False))
    assert crowded.value("work_mem") == "4MB"  # the formula alone gives under 1 MB
    assert "max(4 MB," in crowded.settings["work_mem"].formula


@pytest.mark.parametrize(("cores", "workers"), [(15, None), (16, 4), (31, 4), (32, 5)])
def test_pgtune_autovacuum_workers_rise_only_on_16_and_32_cores(cores, workers):
    pg = size_postgresql(dedicated(Role.database, cores, 64), cores, "ssd",
                         connections([("web", 10)], pooled=False))
    derived = pg.settings.get("autovacuum_max_workers")
    assert (derived and derived.value) == workers


def test_pgtune_huge_pages_jit_and_wal_compression():
    few = connections([("web", 10)], pooled=False)
    small = size_postgresql(dedicated(Role.database, 2, 8), 2, "ssd", few)  # sb 1.8 GB
    large = size_postgresql(dedicated(Role.database, 2, 10), 2, "ssd", few)  # sb 2.25 GB
    assert small.value("huge_pages") == "off"
    assert large.value("huge_pages") == "try"
    for pg in (small, large):
        assert pg.value("jit") == "off"
        assert pg.value("wal_compression") == "lz4"
        assert "830d3bb3" in pg.settings["jit"].source


RATE = peak_request_rate(80, 2, 2)


def test_workers_recycle_about_hourly_at_the_peak_request_rate():
    rate = peak_request_rate(1200, 8, 40)  # one of five 8-core web servers
    assert rate.value == 1200 * 0.5 / 5
    recycling = worker_recycling(17, rate)
    per_hour = rate.value / 17 * 3600
    assert abs(recycling["max_requests"].value - per_hour) <= 50
    assert recycling["max_requests_jitter"].value == recycling["max_requests"].value // 10
    assert "1200 peak users x 0.5 req/s x 8/40 of the web cores" in \
        recycling["max_requests"].source


def test_a_quiet_server_still_recycles_after_a_thousand_requests():
    recycling = worker_recycling(9, peak_request_rate(2, 4, 4))
    assert recycling["max_requests"].value == 1000


def test_gunicorn_on_a_dedicated_host_uses_two_per_core_plus_one():
    g = size_gunicorn(dedicated(Role.web, 4, 8), RATE)
    assert g.workers.value == 9
    assert g.db_connections == 9 * g.threads.value


def test_gunicorn_on_the_shared_small_server_is_smaller():
    roles = frozenset({Role.web, Role.database, Role.celery_worker, Role.redis_broker,
                       Role.load_balancer})
    g = size_gunicorn(share_of(Role.web, roles, 2, 4), RATE)
    assert g.workers.value < 2 * 2 + 1
    assert "shared host" in g.workers.source


def test_gunicorn_is_capped_by_ram():
    g = size_gunicorn(dedicated(Role.web, 16, 2), RATE)
    assert g.workers.value == (2 * GIB - GIB // 2) // (300 * MIB)
    assert "RAM" in g.workers.formula


def test_redis_cache_and_broker_have_opposite_policies():
    share = dedicated(Role.redis_cache, 2, 8)
    cache, broker = size_redis("cache", share), size_redis("broker", share)
    assert cache.maxmemory_policy.value == "allkeys-lru"
    assert cache.appendonly.value == "no"
    assert broker.maxmemory_policy.value == "noeviction"
    assert broker.appendonly.value == "yes"
    assert cache.port != broker.port


def test_visibility_timeout_outlasts_every_queue():
    vt = visibility_timeout().value
    for queue in QUEUES:
        assert vt > queue.time_limit * (queue.prefetch + 1)
        assert queue.soft_time_limit < queue.time_limit


@pytest.mark.parametrize("cores", [1, 2, 4, 8])
def test_worker_groups_cover_every_queue_once(cores):
    groups = size_worker_groups(dedicated(Role.celery_worker, cores, 16))
    queues = [q for g in groups for q in g.queues]
    assert sorted(queues) == sorted(q.name for q in QUEUES)
    for group in groups:
        hard = max(q.time_limit for q in QUEUES if q.name in group.queues)
        assert group.stop_timeout.value > hard
        if "ml_heavy" in group.queues:
            assert group.prefetch_multiplier == 1


def _max_connections(write_profile, hosts: str, name: str) -> tuple[int, str]:
    from ssas_deploy.context.build import build
    from ssas_deploy.profiles.loader import load_profile

    deployment = build(load_profile(str(write_profile(
        f"name: {name}\nextends: large\nhosts:\n{hosts}", f"{name}.yaml"))))
    db = deployment.topology.first(Role.database)
    derived = deployment.sizing.hosts[db.name].postgresql.settings["max_connections"]
    return derived.value, derived.formula


def test_scale_out_within_the_large_tier_keeps_max_connections(write_profile):
    # max_connections is restart-only: adding a web server or worker within the tier's limits
    # (3 and 3) must not change it, so scale-out never restarts PostgreSQL under load.
    two_web, formula = _max_connections(write_profile, "  web: {count: 2}\n", "two")
    grown, _ = _max_connections(write_profile, "  web: {count: 3}\n  celery_worker: {count: 2}\n",
                                "grown")
    full, _ = _max_connections(write_profile, "  web: {count: 3}\n  celery_worker: {count: 3}\n",
                               "full")
    assert two_web == grown == full
    assert "room for 1 more web server(s), the tier's 3" in formula
    assert "room for 2 more worker host(s), the tier's 3" in formula
    # Beyond the tier's limits the fleet itself sets it (a restart, as for a new tier).
    beyond, formula = _max_connections(
        write_profile, "  web: {count: 4}\n  celery_worker: {count: 3}\n", "beyond")
    assert beyond > full and "room for" not in formula


def test_nginx_worker_connections_stay_under_linux_open_file_ceiling():
    from ssas_deploy.sizing.nginx import NR_OPEN, size_nginx

    web = [("web-1", "10.0.0.1", 8000, 4)]
    crowd = size_nginx(1.0, 1_000_000, web)  # 4,000,000 by the formula alone
    assert crowd.worker_connections.value == NR_OPEN // 2
    assert crowd.worker_rlimit_nofile.value == NR_OPEN
    assert size_nginx(1.0, 1000, web).worker_connections.value == 4096
