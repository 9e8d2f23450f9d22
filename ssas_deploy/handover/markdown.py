"""The handover report as Markdown: site, first accounts, topology, vault, backups,
monitoring, the guide's checklists and maintenance calendar.

Pure text assembly from the deployment and its Facts: no connection, no secret value (the
vault is named by path only).
"""

import re
from pathlib import Path

from ssas_deploy.context.backup import PGBACKREST_REPO, RESTIC_REPO_ROOT
from ssas_deploy.handover import checklists, maintenance
from ssas_deploy.handover.commands import (
    data_import_command,
    first_admin_command,
    replacement_command,
    restore_commands,
    shell_word,
    user_create_command,
)
from ssas_deploy.handover.facts import Facts
from ssas_deploy.profiles.models import Role

_SPECIAL = re.compile(r"([\\`*_\[\]|<>#!])")


def esc(text: object) -> str:
    """`text` with Markdown's special characters escaped (for table cells and prose)."""
    return _SPECIAL.sub(r"\\\1", str(text))


def code(text: str) -> str:
    """`text` as an inline code span (a longer fence when it holds backticks)."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def site_urls(deployment) -> tuple[str, str]:
    """(URL by the profile's server name, URL by the load balancer's address)."""
    lb = deployment.topology.first(Role.load_balancer) or deployment.topology.first(Role.web)
    address = f"[{lb.address}]" if ":" in lb.address else lb.address
    return f"https://{deployment.profile.site.server_name}/", f"https://{address}/"


def build_markdown(deployment, inventory: Path | str, profile_ref: str, facts: Facts) -> str:
    """The whole report. `inventory` and `profile_ref` are shown as the user gave them."""
    inventory = str(inventory)
    parts = [
        _title(deployment, inventory, profile_ref, facts),
        _site(deployment, facts),
        _accounts(deployment, inventory),
        _topology(deployment),
        _vault(inventory, facts),
        _backups(deployment, inventory, facts),
        _monitoring(deployment, inventory),
        _checklists(facts),
        _calendar(deployment, inventory),
    ]
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def _title(deployment, inventory: str, profile_ref: str, facts: Facts) -> str:
    p = deployment.profile
    applied = (f"last successful apply: {facts.deployed_at or 'time not recorded'}"
               if facts.deployed else "no successful apply recorded for this inventory")
    return f"""# SSAS handover: {esc(p.name)} ({esc(p.tier.value)} tier)

For the school's IT staff: how to reach, administer, back up, restore and look after the
Smart Student Analytics System. Generated {facts.generated_at} from the profile
{code(profile_ref)} and the inventory {code(inventory)} ({esc(applied)}). This report holds no
password or key.
{_profile_note(profile_ref, facts)}"""


def _profile_note(profile_ref: str, facts: Facts) -> str:
    if facts.deployed:
        return ""
    return (f"\nThe commands below take the profile of the last apply; until one is recorded, "
            f"add `--profile {shell_word(profile_ref)}` to each `ssas-deploy` command.\n")


def _site(deployment, facts: Facts) -> str:
    by_name, by_address = site_urls(deployment)
    cert = ("your certificate" if facts.tls == "provided" else
            "a self-signed certificate: browsers warn until a certificate the school's devices "
            "trust is installed")
    return f"""## The site

- Address: <{by_name}> (the profile's server name: it must resolve to the load balancer), or
  <{by_address}> directly.
- HTTPS with {esc(cert)}; plain HTTP redirects to HTTPS.
- Staff sign in at <{by_name}accounts/login/> (every role); the admin is <{by_name}admin/>.
"""


def _accounts(deployment, inventory: str) -> str:
    web = deployment.topology.first(Role.web)
    by_name, _ = site_urls(deployment)
    return f"""## First accounts

Run these from a machine that holds the inventory and its SSH key. Each generates the
account's first password and writes it only to the named file (mode 0600): hand it over,
then delete the file. Nothing prints or logs a password.

1. **The principal or IT administrator** (role `admin`: reads and changes data, opens the
   admin):

   ```sh
   {user_create_command(inventory, "principal", "admin")}
   ```
2. **The school's data**: the student information system's exports (CSV or XLSX: schools,
   academic years, subjects, students, scores), checked first with `--dry-run`, then imported
   without it; every bad row is named as `FILE:ROW: column: message` and nothing is kept
   until all rows are good. Importing a file again changes only what differs:

   ```sh
   {data_import_command(inventory)}
   ```
3. **Each teacher** (role `teacher`: sees the students of the classes given with `--class`;
   `users assign NAME --class ...` changes them). Counsellors (role `counsellor`) see every
   student:

   ```sh
   {user_create_command(inventory, "teacher-name", "teacher")}
   ```
4. They sign in at <{by_name}accounts/login/> and change the password (*Change password*
   in the page header). A forgotten password: *Forgotten your password?* on the sign-in page
   mails a one-time link (until an SMTP relay is configured the mail is written to
   `/var/lib/ssas/mail/` on {esc(web.name)}), or `ssas-deploy users reset-password NAME
   --password-file FILE --inventory {shell_word(inventory)}`. `users list` shows every account,
   `users disable NAME` stops one from signing in.

A superuser for the IT staff only (asks for a name and password):
`{first_admin_command(web)}`.
"""


def _topology(deployment) -> str:
    rows = ["| host | address | roles | CPU cores | RAM (GiB) | disk (GiB) | storage | SSH |",
            "|---|---|---|---|---|---|---|---|"]
    for h in deployment.topology.hosts:
        roles = ", ".join(r.value for r in Role if r in h.roles)
        ssh = f"{h.ssh.user}@{h.address}" + ("" if h.ssh.port == 22 else f" port {h.ssh.port}")
        rows.append(f"| {esc(h.name)} | {esc(h.address)} | {esc(roles)} | "
                    f"{h.hardware.cpu_cores} | {h.hardware.ram_gib:g} | {h.hardware.disk_gib} | "
                    f"{h.hardware.storage} | {esc(ssh)} |")
    p = deployment.profile
    return (f"## Topology\n\n{len(deployment.topology.hosts)} host(s), sized for {p.students} "
            f"students and {p.peak_concurrent_users} peak concurrent users; database: "
            f"{esc(p.database.engine)}"
            + (f" behind {p.database.pooler}" if p.database.pooler != "none" else "")
            + f"; cache: {esc(p.cache)}.\n\n" + "\n".join(rows) + "\n")


def _vault(inventory: str, facts: Facts) -> str:
    from ssas_deploy.secrets import vault_path_for

    path = vault_path_for(Path(inventory))
    state = ("it exists: the secrets were generated" if facts.vault_exists else
             "it does not exist yet: `apply` (or `ssas-deploy secrets init`) generates the "
             "secrets on first use")
    inv = shell_word(inventory)
    return f"""## Secrets

Every password and key of this deployment is kept in one ansible-vault encrypted file beside
the inventory: {code(str(path))} ({_cell(state)}). Keep a copy with the school's other secrets, and
its vault password apart from it; neither is in this report.

- `ssas-deploy secrets show-path --inventory {inv}`: where the vault is.
- `ssas-deploy secrets list --inventory {inv}`: each secret with when it was created and
  rotated (asks for the vault password; never shows a value).
- `ssas-deploy secrets rotate NAME --inventory {inv}`, then `apply`: replace one secret.
- `ansible-vault view {shell_word(str(path))}`: open it (asks for the vault password).
"""


def _backups(deployment, inventory: str, facts: Facts) -> str:
    host = deployment.topology.first(Role.backup)
    newest, at_time = restore_commands(inventory)
    if host is None:
        return ("## Backups\n\nThe profile has **no backup host**: nothing is backed up. Add "
                "one to the profile (`hosts.backup`) and the inventory, then `apply`.\n")
    b, policy = facts.backups, deployment.profile.backup
    rows = ["| what | when (systemd OnCalendar) | kept |", "|---|---|---|"]
    if deployment.profile.database.engine == "postgresql":
        rows += [
            f"| database, full (pgBackRest) | `{policy.full_on_calendar}` | "
            f"{policy.full_retention} full backup(s), with their WAL |",
            f"| database, differential | `{policy.diff_on_calendar}` | "
            f"{policy.diff_retention} differential backup(s) |",
            "| database WAL (point-in-time recovery) | continuously, at least every 5 minutes "
            "| as long as the full backups it belongs to |",
        ]
    rows.append(f"| media files (restic) | `{policy.files_on_calendar}` | "
                f"{policy.files_keep_daily} daily, {policy.files_keep_weekly} weekly |")
    if b.known:
        last = (f"- Last successful database backup: {esc(b.last_database or 'none yet')}\n"
                f"- Last successful media backup: {esc(b.last_files or 'none yet')}\n")
    else:
        last = f"- Last successful backup: unknown ({esc(b.unknown)})\n"
    inv = shell_word(inventory)
    return f"""## Backups

Kept on {esc(host.name)} ({esc(host.address)}): pgBackRest in {code(PGBACKREST_REPO)}, restic in
{code(RESTIC_REPO_ROOT)}, both encrypted with keys kept in the vault.

{chr(10).join(rows)}

{last}
See them: `ssas-deploy backup list --inventory {inv}`; check them:
`ssas-deploy backup check --inventory {inv}`; take one now:
`ssas-deploy backup run --inventory {inv}`.

**Restore**: the first command restores the newest backup, the second the state at a point
in time (UTC) within the retained backups. Both stop the app, restore the databases
(pgBackRest) and the media files (restic), check the app and start it again
(`ssas-deploy restore --help`; the README's Restore section has every step):

```sh
{newest}
{at_time}
```
{_replacement(deployment, inventory)}"""


def _replacement(deployment, inventory: str) -> str:
    database = deployment.topology.first(Role.database)
    if database is None or deployment.profile.database.engine != "postgresql":
        return ""
    return f"""
**A lost database server** ({esc(database.name)}): set up a bare Debian 12 machine that this
computer reaches over SSH like the others, then restore onto it. The inventory's address of
{esc(database.name)} is rewritten (the old file is kept beside it) and every host is pointed
at the new machine:

```sh
{replacement_command(inventory, database.name)}
```
"""


def _monitoring(deployment, inventory: str) -> str:
    by_name, _ = site_urls(deployment)
    return f"""## Monitoring

- <{by_name}health/>: the app's health report (database, cache, broker), through the load
  balancer.
- <{by_name}monitoring/ready/>: readiness of one app server (HTTP 200 when it can serve).
- `ssas-deploy status --inventory {shell_word(inventory)}`: per host, the release it runs, its
  services and readiness.
- Metrics and alerting (Prometheus): **not set up**.
"""


def _checklists(facts: Facts) -> str:
    judged = checklists.judge(facts)
    out = ["## The guide's checklists",
           "Each item of the guide's pre-deployment checklists, marked from what this "
           "deployment shows: **done**, **not yet** or **not applicable**, with the evidence."]
    for section in checklists.SECTIONS:
        rows = [f"### {section}", "", "| item | status | evidence |", "|---|---|---|"]
        rows += [f"| {esc(item.text)} | {j.mark.value} | {_cell(j.reason)} |"
                 for item, j in judged if item.section == section]
        out.append("\n".join(rows))
    return "\n\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Escape a reason for a table cell, keeping its `code` spans."""
    pieces = text.split("`")
    return "".join(f"`{p}`" if i % 2 else esc(p) for i, p in enumerate(pieces))


def _calendar(deployment, inventory: str) -> str:
    _, at_time = restore_commands(inventory)
    tasks = maintenance.calendar(deployment, inventory, at_time)
    out = ["## Maintenance calendar", "The guide's regular tasks and how to do each here."]
    for period in maintenance.PERIODS:
        rows = [f"### {period}", ""]
        rows += [f"- **{esc(task.text)}**: {_cell(how)}" for task, how in tasks
                 if task.period == period]
        out.append("\n".join(rows))
    return "\n\n".join(out) + "\n"
