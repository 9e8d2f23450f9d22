"""`ssas-deploy restore`: bring a deployment's databases and media files back from its backups.

- `plan`: pure choices (which backup set and media snapshot each host gets, the refusals).
- `hosts`: the commands on the hosts (probe, pgBackRest, restic, units, checks, readiness).
- `run`: the steps in order, timed, with the way back up named when one fails.
"""
