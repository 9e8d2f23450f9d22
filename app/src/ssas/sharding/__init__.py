"""School-keyed shards: several PostgreSQL databases, each holding whole schools.

Off unless SSAS_SHARDS lists shard aliases (["shard_0", "shard_1", ...]); with it empty or
absent everything lives on `default` exactly as in an unsharded deployment.

Where things live when sharded:

- `default` holds everything that is not one school's data: users, sessions, roles,
  ClassAssignment, the trained models (ModelArtifact, TrainingRun) and the shard map
  (`SchoolShard`: school code -> shard alias, plus a write freeze).
- A shard holds whole schools: the `School` row itself and every row that belongs to
  it (students, scores, daily aggregates, batch jobs and their results, reports). Django
  has no cross-database relations, so a school's rows and the School row they point to
  sit together. Subjects and academic years are reference data: each shard has its own
  rows, matched between shards by their natural key (subject code, academic-year name).
- Auto-increment ids are disjoint between shards (shard_N counts from N * 10**12, set
  after `migrate`), so a moved school keeps its ids on the target shard.

Placement: a school's shard is chosen once, when it is created (placement.place_school):
the shard holding the fewest schools, ties to the lowest alias in SSAS_SHARDS order.
Adding a shard never moves an existing school; only `move_school` does.

Routing: the database router (ssas.routers.SchoolShardRouter) sends school data to the
"current shard", a context variable set per request by ShardMiddleware (from the URL's
`code`, the `school` query parameter or the X-SSAS-School header), per Celery task by
the `school` keyword (context.school_task) and by `use_school` / `use_shard` in code.
Without a current shard a query on school data raises ShardRoutingError (HTTP 400),
never silently reaching `default`. District-wide figures loop over every shard
(context.each_shard).
"""
