"""Celery queues (time limits, prefetch, acks) and worker groups per worker host."""

from dataclasses import dataclass

from ssas_deploy.sizing.derived import MIB, Derived
from ssas_deploy.sizing.shares import Share

CHILD_RSS_KB = 400 * MIB  # one prefork child with the ML models loaded
VISIBILITY_MARGIN_S = 300


@dataclass(frozen=True)
class QueuePolicy:
    name: str
    task: str
    soft_time_limit: int
    time_limit: int
    prefetch: int
    acks_late: bool
    why: str


QUEUES = (
    QueuePolicy("ml_heavy", "ml.tasks.batch_analysis", 540, 600, 1, True,
                "long batch jobs: prefetch 1 so one job never waits behind another"),
    QueuePolicy("ml_fast", "ml.tasks.single_analysis", 25, 30, 4, True,
                "short single-student predictions: a small prefetch keeps workers busy"),
    QueuePolicy("reports", "reports.tasks.generate_report", 240, 300, 1, True,
                "reports take minutes: prefetch 1"),
    QueuePolicy("analytics", "analytics.tasks.daily_aggregation", 1500, 1800, 1, True,
                "nightly aggregation over all scores: prefetch 1, generous limit"),
    QueuePolicy("ml_training", "ml.tasks.train_models", 1500, 1800, 1, True,
                "nightly (or asked-for) retraining over all scores: prefetch 1, the "
                "aggregation's limit"),
)
QUEUE_BY_NAME = {q.name: q for q in QUEUES}


@dataclass(frozen=True)
class WorkerGroup:
    name: str
    queues: tuple[str, ...]
    concurrency: Derived
    prefetch_multiplier: int
    stop_timeout: Derived

    @property
    def unit(self) -> str:
        return f"ssas-celery-{self.name}"


def visibility_timeout() -> Derived:
    """A reserved task is re-delivered after this: it must outlast waiting plus running."""
    worst = max(QUEUES, key=lambda q: q.time_limit * (q.prefetch + 1))
    value = worst.time_limit * (worst.prefetch + 1) + VISIBILITY_MARGIN_S
    return Derived(
        value,
        f"{worst.name}: hard limit {worst.time_limit} s x (prefetch {worst.prefetch} + 1)"
        f" + {VISIBILITY_MARGIN_S} s margin",
        "Redis re-delivers unacked tasks after visibility_timeout; it must exceed the time a "
        "task can sit prefetched plus its hard time limit, or acks_late tasks run twice",
    )


def _group(name: str, queues: tuple[str, ...], concurrency: Derived) -> WorkerGroup:
    policies = [QUEUE_BY_NAME[q] for q in queues]
    hard = max(p.time_limit for p in policies)
    return WorkerGroup(
        name=name,
        queues=queues,
        concurrency=concurrency,
        prefetch_multiplier=min(p.prefetch for p in policies),
        stop_timeout=Derived(
            hard + 30,
            f"longest hard time limit {hard} s + 30 s",
            "systemd must not kill a draining worker before its tasks hit their limit",
        ),
    )


def size_worker_groups(share: Share) -> list[WorkerGroup]:
    cores = share.cores.value
    by_ram = max(1, share.ram_kb.value // CHILD_RSS_KB)
    ram_note = f"{share.ram_kb.value // MIB} MiB / {CHILD_RSS_KB // MIB} MiB per child = {by_ram}"
    if cores < 2:
        # Too little CPU to split: one worker serves every queue.
        concurrency = max(1, min(2, by_ram))
        return [
            _group(
                "all",
                tuple(q.name for q in QUEUES),
                Derived(
                    concurrency,
                    f"min(2, {ram_note}) with {cores:g} cores",
                    f"one group for every queue on a small share; {share.cores.source}",
                ),
            )
        ]
    # Heavy ML gets half the cores; fast predictions and reports/analytics/retraining (the
    # night's work, which no user waits on) a quarter each.
    plan = (("ml-heavy", ("ml_heavy",), 0.5), ("ml-fast", ("ml_fast",), 0.25),
            ("reports", ("reports", "analytics", "ml_training"), 0.25))
    groups = []
    for name, queues, fraction in plan:
        by_cpu = max(1, int(cores * fraction))
        by_group_ram = max(1, int(by_ram * fraction))
        value = min(by_cpu, by_group_ram)
        groups.append(
            _group(
                name,
                queues,
                Derived(
                    value,
                    f"min({cores:g} cores x {fraction:g} = {by_cpu}, "
                    f"({ram_note}) x {fraction:g} = {by_group_ram})",
                    f"prefork children for CPU-bound ML; {share.cores.source}",
                ),
            )
        )
    return groups

