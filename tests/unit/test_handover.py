"""The handover report: facts -> checklist marks, live backup state, Markdown and HTML."""

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from ssas_deploy.backups import BackupRow, Listing
from ssas_deploy.context.build import build
from ssas_deploy.errors import OperationFailedError
from ssas_deploy.handover import checklists, maintenance
from ssas_deploy.handover.checklists import Mark
from ssas_deploy.handover.commands import first_admin_command, restore_commands
from ssas_deploy.handover.facts import BackupState, Facts, database_tls
from ssas_deploy.handover.live import OFFLINE_REASON, backup_state, summarize
from ssas_deploy.handover.page import to_html
from ssas_deploy.handover.report import build_report
from ssas_deploy.inventory import load_inventory
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.release_status import write_last_restore
from ssas_deploy.secrets import SecretStore, VaultPassword
from ssas_deploy.ssh import shell_word

NOW = 1_795_953_600.0  # 2026-11-29 12:00:00 UTC
LARGE_INVENTORY = """\
ssh: {user: deploy, port: 22, key_file: ~/.ssh/id_ed25519}
hosts:
  load_balancer: [{name: lb-1, address: 10.0.1.5}]
  web:
    - {name: web-1, address: 10.0.1.10, ssh: {port: 2222}}
    - {name: web-2, address: 10.0.1.11}
    - {name: web-3, address: 10.0.1.12}
  database: [{name: db-1, address: 10.0.1.20}]
  backup: [{name: backup-1, address: 10.0.1.50}]
  redis_cache: [{name: cache-1, address: 10.0.1.30}]
  celery_worker: [{name: worker-1, address: 10.0.1.40}]
"""
SMALL_INVENTORY = """\
ssh: {user: root}
hosts:
  web: [{name: school-1, address: 192.168.1.10}]
  backup: [{name: nas-1, address: 192.168.1.20}]
"""


def deployment_for(tmp_path, profile_name: str, text: str):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(text, encoding="utf-8")
    profile = load_profile(profile_name)
    return build(profile, load_inventory(inventory, profile)), inventory


def facts(**changes) -> Facts:
    base = Facts(deployed=True, deployed_at="2026-11-29 10:00:00 UTC", vault_exists=True,
                 tls="self-signed", cache="redis", db_tls="require", api_rate="10r/s",
                 ml_rate="2r/s", security_updates=True, automatic_reboot=False,
                 has_backup_host=True, backups=BackupState(database_count=3, files_count=5,
                                                           last_database="x", last_files="y"),
                 generated_at="2026-11-29 12:00:00 UTC")
    return replace(base, **changes)


def marks(f: Facts) -> dict[str, checklists.Judgement]:
    return {item.text: j for item, j in checklists.judge(f)}


# -- checklists --------------------------------------------------------------------------

def test_every_guide_item_is_judged_with_a_reason():
    judged = checklists.judge(facts())
    assert [sum(1 for i, _ in judged if i.section == s) for s in checklists.SECTIONS] == [6, 6, 6]
    assert all(j.reason.strip() for _, j in judged)
    assert all(isinstance(j.mark, Mark) for _, j in judged)


def test_without_a_recorded_apply_only_the_report_itself_is_done():
    m = marks(facts(deployed=False, deployed_at=None))
    done = [text for text, j in m.items() if j.mark is Mark.done]
    assert done == ["Documentation updated"]
    assert "no successful apply" in m["SSL/TLS certificates configured"].reason


def test_marks_follow_the_facts():
    m = marks(facts(tls="provided"))
    assert m["SSL/TLS certificates configured"].mark is Mark.done
    assert "provided" in m["SSL/TLS certificates configured"].reason
    assert "self-signed" in marks(facts())["SSL/TLS certificates configured"].reason
    assert m["Database connections encrypted"].mark is Mark.done
    assert marks(facts(db_tls="prefer"))["Database connections encrypted"].mark is Mark.not_yet
    assert (marks(facts(db_tls="sqlite"))["Database connections encrypted"].mark
            is Mark.not_applicable)
    assert "10r/s" in m["API rate limiting enabled"].reason
    assert (marks(facts(security_updates=False))["Regular security updates scheduled"].mark
            is Mark.not_yet)
    # Never done on this product today: no load test step, no monitoring system.
    for item in ("Load testing completed", "Monitoring and alerting setup",
                 "Monitoring dashboards configured", "Disaster recovery plan tested",
                 "Staff training completed", "Incident response procedures defined"):
        assert m[item].mark is Mark.not_yet, item


def test_backup_items_follow_the_live_list():
    present = marks(facts())
    assert present["Backup schedules established"].mark is Mark.done
    assert "3 database and 5 media" in present["Backup schedules established"].reason
    assert present["Backup and recovery tested"].mark is Mark.not_yet
    empty = marks(facts(backups=BackupState(database_count=0, files_count=0)))
    assert empty["Backup schedules established"].mark is Mark.not_yet
    assert "no backup yet" in empty["Backup schedules established"].reason
    unknown = marks(facts(backups=BackupState(unknown="host down")))
    assert "unknown (host down)" in unknown["Backup schedules established"].reason
    assert "unknown (host down)" in unknown["Backup and recovery tested"].reason
    none = marks(facts(has_backup_host=False, backups=BackupState(unknown="no host")))
    assert none["Backup schedules established"].mark is Mark.not_yet


def test_a_recorded_restore_marks_recovery_tested_and_to_host_the_dr_drill():
    in_place = {"time": NOW - 60, "point": "to the latest archived state", "to_host": [],
                "tables": 21, "rows": 8660, "seconds": 19.9}
    m = marks(facts(last_restore=in_place))
    assert m["Backup and recovery tested"].mark is Mark.done
    assert "21 tables (8660 rows) checked" in m["Backup and recovery tested"].reason
    assert m["Disaster recovery plan tested"].mark is Mark.not_yet
    replaced = marks(facts(last_restore={**in_place, "to_host": ["db-1"]}))
    assert replaced["Disaster recovery plan tested"].mark is Mark.done
    assert "onto the new machine(s) db-1" in replaced["Disaster recovery plan tested"].reason


# -- facts and live state ----------------------------------------------------------------

def test_database_tls_per_topology(tmp_path):
    large, _ = deployment_for(tmp_path, "large", LARGE_INVENTORY)
    assert database_tls(large) == "require"
    small, _ = deployment_for(tmp_path, "small", SMALL_INVENTORY)
    assert database_tls(small) == "local"


def test_offline_and_failing_listings_are_unknown_not_errors(tmp_path):
    deployment, _ = deployment_for(tmp_path, "large", LARGE_INVENTORY)

    def unreachable(_deployment):
        raise OperationFailedError("backup-1: cannot reach backup-1 at 10.0.1.50:22: refused")

    def never(_deployment):
        raise AssertionError("offline must not connect")

    assert backup_state(deployment, offline=True, lister=never).unknown == OFFLINE_REASON
    state = backup_state(deployment, offline=False, lister=unreachable)
    assert not state.known and state.present is None
    assert "cannot reach backup-1" in state.unknown


def test_summary_names_the_newest_backups():
    listing = Listing()
    listing.backups = [
        BackupRow("ssas", "20261122-013002F", "full", 1795_300_000, 1795_300_600, 1, 1, 1,
                  "a", "b"),
        BackupRow("ssas", "20261122-013002F_20261123-013001D", "diff", 1795_400_000,
                  1795_400_060, 1, 1, 1, "c", "d"),
    ]
    listing.files = {"web-1": [{"time": "2026-11-28T02:00:03.123456789+00:00", "id": "ab"},
                               {"time": "2026-11-29T02:00:03Z", "id": "cd"}]}
    state = summarize(listing)
    assert (state.database_count, state.files_count) == (2, 2)
    assert state.last_database.startswith("2026-11-23 ") and "diff backup" in state.last_database
    assert state.last_files == "2026-11-29 02:00:03 UTC (media files of web-1)"
    assert summarize(Listing()).present is False


# -- commands ------------------------------------------------------------------------------

def test_first_admin_command_uses_the_inventory_ssh_details(tmp_path):
    large, _ = deployment_for(tmp_path, "large", LARGE_INVENTORY)
    assert first_admin_command(large.topology.first(Role.web)) == (
        "ssh -t -p 2222 -i ~/.ssh/id_ed25519 deploy@10.0.1.10 "
        "sudo ssas-env ssas-manage createsuperuser")
    small, _ = deployment_for(tmp_path, "small", SMALL_INVENTORY)
    assert first_admin_command(small.topology.first(Role.web)) == (
        "ssh -t root@192.168.1.10 ssas-env ssas-manage createsuperuser")


def test_commands_quote_paths_that_need_it():
    assert shell_word("/srv/my school/hosts.yaml") == "'/srv/my school/hosts.yaml'"
    assert restore_commands("hosts.yaml") == (
        "ssas-deploy restore --inventory hosts.yaml --yes",
        "ssas-deploy restore --inventory hosts.yaml --yes --at 'YYYY-MM-DD HH:MM:SS'")


# -- the report ----------------------------------------------------------------------------

def report_for(tmp_path, profile="large", text=LARGE_INVENTORY, backups=None):
    deployment, inventory = deployment_for(tmp_path, profile, text)
    state = backups or backup_state(deployment, offline=True)
    return build_report(deployment, inventory, profile, state, now=lambda: NOW), inventory


def test_offline_report_has_every_section(tmp_path):
    report, inventory = report_for(tmp_path)
    md = report.markdown
    for heading in ("## The site", "## First accounts", "## Topology", "## Secrets",
                    "## Backups", "## Monitoring", "## The guide's checklists",
                    "### Security", "### Performance", "### Operational",
                    "## Maintenance calendar", "### Weekly", "### Monthly", "### Quarterly"):
        assert f"\n{heading}\n" in md, heading
    assert "https://ssas.school.internal/" in md and "https://10.0.1.5/" in md
    assert "ssh -t -p 2222 -i ~/.ssh/id_ed25519 deploy@10.0.1.10 sudo ssas-env" in md
    assert (f"ssas-deploy users create principal --role admin --email principal@school.example "
            f"--password-file principal.password --inventory {inventory}") in md
    assert "--role teacher" in md and "https://ssas.school.internal/accounts/login/" in md
    assert "until one is recorded, add `--profile large` to each" in md  # no apply recorded
    assert "| worker-1 | 10.0.1.40 | celery\\_worker | 4 | 8 | 100 | ssd |" in md
    assert str(tmp_path / "hosts.secrets.vault.yml") in md
    assert f"ssas-deploy secrets show-path --inventory {inventory}" in md
    assert "Last successful backup: unknown (--offline: the backup host was not asked)" in md
    assert f"ssas-deploy restore --inventory {inventory} --yes\n" in md
    assert "--yes --at 'YYYY-MM-DD HH:MM:SS'" in md
    assert (f"ssas-deploy restore --inventory {inventory} --to-host db-1=NEW_ADDRESS --yes"
            in md)
    assert "`Sun *-*-* 01:30:00`" in md and "14 daily, 8 weekly" in md
    assert "/monitoring/ready/" in md and "/health/" in md
    assert "Metrics and alerting (Prometheus): **not set up**" in md
    for task in maintenance.CALENDAR:
        assert f"**{task.text}**" in md
    assert "Generated 2026-11-29 12:00:00 UTC" in md  # the pinned generation time


def test_live_backups_and_a_recorded_apply_show_in_the_report(tmp_path):
    state = BackupState(database_count=2, files_count=1,
                        last_database="2026-11-29 01:31:00 UTC (full backup 1F, stanza ssas)",
                        last_files="2026-11-29 02:00:03 UTC (media files of web-1)")
    (tmp_path / "hosts.last-apply.json").write_text(json.dumps(
        {"action": "apply", "result": "ok", "time": NOW - 3600, "profile": "large"}))
    write_last_restore(tmp_path / "hosts.yaml", {"time": NOW - 600, "to_host": ["db-1"],
                                                 "point": "to the latest archived state",
                                                 "tables": 21, "rows": 8660})
    report, _ = report_for(tmp_path, backups=state)
    assert re.search(r"\| Backup and recovery tested \| done \| `restore` to the latest "
                     r"archived state onto the new machine\(s\) db-1 on 2026-11-29 ",
                     report.markdown)
    assert re.search(r"\| Disaster recovery plan tested \| done \|", report.markdown)
    assert "Last successful database backup: 2026-11-29 01:31:00 UTC (full backup 1F" \
        in report.markdown
    assert re.search(r"\| Backup schedules established \| done \|", report.markdown)
    assert re.search(r"\| SSL/TLS certificates configured \| done \|", report.markdown)


def test_no_secret_value_appears_in_the_report(tmp_path):
    deployment, inventory = deployment_for(tmp_path, "large", LARGE_INVENTORY)
    store = SecretStore(inventory, VaultPassword(b"correct horse battery", "test"))
    values = store.load_or_create()
    assert values and all(len(v) >= 16 for v in values.values())
    (tmp_path / "hosts.last-apply.json").write_text(json.dumps(
        {"action": "apply", "result": "ok", "time": NOW, "profile": "large"}))
    report = build_report(deployment, inventory, "large", BackupState(unknown="offline"),
                          now=lambda: NOW)
    assert "it exists: the secrets were generated" in report.markdown
    for name, value in values.items():
        assert value not in report.markdown, name
        assert value not in report.html, name
    assert "correct horse battery" not in report.markdown + report.html


class StructureChecker(HTMLParser):
    """Every element closed in order; records external references."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "area", "base", "col",
                      "source", "wbr"})

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.asset_refs = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "src" or (tag == "link" and name == "href"):
                self.asset_refs.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> while open: {self.stack}")
        else:
            self.stack.pop()


def test_html_is_self_contained_and_well_formed(tmp_path):
    report, _ = report_for(tmp_path)
    page = report.html
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    checker = StructureChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert checker.tags.count("html") == checker.tags.count("body") == 1
    assert checker.tags.count("style") == 1
    assert checker.asset_refs == []
    assert not {"script", "link", "img", "iframe"} & set(checker.tags)
    assert "@import" not in page and "url(" not in page
    # The only http(s) addresses are links to the site itself.
    for url in re.findall(r"https?://[^\s\"'<>)]+", page):
        assert url.startswith(("https://ssas.school.internal/", "https://10.0.1.5/")), url
    assert page.count("<table>") == 2 + 3  # topology, backups, three checklists
    assert "<h2>Maintenance calendar</h2>" in page


def test_html_escapes_markup_instead_of_passing_it_through():
    page = to_html("a <script>alert(1)</script> b\n\n<img src=x>\n", "t <b>")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "<title>t &lt;b&gt;</title>" in page


@pytest.mark.parametrize("profile,text", [("small", SMALL_INVENTORY)])
def test_single_server_report(tmp_path, profile, text):
    report, _ = report_for(tmp_path, profile, text)
    md = report.markdown
    assert "ssh -t root@192.168.1.10 ssas-env ssas-manage createsuperuser" in md
    assert "| Database connections encrypted | not applicable |" in md
    assert "per-process memory cache" in md  # small: cache local
