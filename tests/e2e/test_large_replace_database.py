"""The large sandbox's database server is lost and replaced by a new, bare machine.

A school is written and its WAL archived, then the db-1 container is removed and `sandbox up`
creates a bare one in its place. School IT's inventory still names the old machine:
`restore --to-host db-1=<new address> --yes` sets the new machine up, restores the cluster
onto it from the backup host, points every other host at it (a full apply) and checks. Goal:
every table's rows and checksum as before the loss, the site answering through the load
balancer, the inventory rewritten (the old one kept), and backups working on the new machine.
"""

import os
import subprocess
import sys
import time

import yaml

from ssas_deploy.migration.remote import manage, run_on
from ssas_deploy.profiles.models import Role
from ssas_deploy.sandbox.core import container_name

from .checks import switch_and_archive_wal, table_checksums
from .conftest import VAULT_PASSWORD, cli
from .site_client import Site


def _address(inventory, name: str) -> str:
    document = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    return next(entry["address"] for entries in document["hosts"].values()
                for entry in entries if entry["name"] == name)


def test_lost_database_host_is_replaced_and_restored(large):
    profile, inventory = large
    args = ["--profile", str(profile), "--inventory", str(inventory)]
    site = Site(profile, inventory)
    web = site.deployment.topology.first(Role.web)
    db = site.deployment.topology.first(Role.database)
    manage(web, "generate_school", "--students", "250", "--seed", "41",
           "--school", "Replacement Drill High", "--replace")
    switch_and_archive_wal(db)
    before = table_checksums(site)
    assert sum(rows for _, rows, _ in before) > 250, before

    # The loss: db-1 is gone; a bare machine takes its place (maybe on another address).
    original = inventory.read_text(encoding="utf-8")
    name = profile.stem
    subprocess.run(["podman", "rm", "-f", "-t", "2", container_name(name, db.name)],
                   check=True, capture_output=True)
    cli("sandbox", "up", "--profile", str(profile), "--dir", str(inventory.parent))
    new_address = _address(inventory, db.name)
    inventory.write_text(original, encoding="utf-8")

    env = {**os.environ, "SSAS_VAULT_PASSWORD": VAULT_PASSWORD, "SSAS_DEPLOY_WIDTH": "160"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "ssas_deploy", "restore", *args,
                             "--to-host", f"{db.name}={new_address}", "--yes"],
                            capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, timeout=3600)
    seconds = time.monotonic() - started
    print(f"\nreplacement drill: restore --to-host {seconds:.1f} s "
          f"(old address {db.address}, new {new_address})\n{result.stderr[-3000:]}\n"
          f"{result.stdout[-3000:]}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    assert _address(inventory, db.name) == new_address
    kept = inventory.with_name(inventory.name + ".before-restore")
    assert kept.read_text(encoding="utf-8") == original
    site = Site(profile, inventory)
    assert table_checksums(site) == before
    status, health = site.request("/health/", auth=False)
    assert status == 200 and health["checks"]["database"]["default"] == "ok", health
    new_db = site.deployment.topology.first(Role.database)
    assert run_on(new_db, "runuser -u postgres -- psql -XAtq -c "
                          "'select pg_is_in_recovery()'").strip() == "f"
    started = time.monotonic()
    cli("backup", "run", "--type", "incr", "--no-files", *args)
    print(f"replacement drill: incremental backup from the new machine "
          f"{time.monotonic() - started:.1f} s")
