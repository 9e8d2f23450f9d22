"""The systemd sandboxing every unit and drop-in of the project carries (one list, one place).

Each service gets the whole set; a unit states only what it needs beyond it: the paths it
writes (ProtectSystem=strict makes everything else read-only), the socket families it opens,
the capabilities a root process keeps. `systemd-analyze security` scores the result (the
tests hold every rendered unit to at most 2.5 of 10).

Sources: systemd.exec(5) and systemd-analyze(1) of systemd 252 (Debian 12), and the
"Sandboxing" checklist of the systemd project's "Security and hardening" guidance.
"""

from collections.abc import Mapping, Sequence
from typing import Any

# What a plain network daemon or job needs; what it may not do follows from what is absent.
_BASE = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "PrivateDevices=yes",
    "DevicePolicy=closed",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "KeyringMode=private",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    # A call outside the list fails with EPERM instead of killing the process: a library
    # that probes for a call keeps working, and nothing is allowed that was not before.
    "SystemCallErrorNumber=EPERM",
    # Files a service creates are not readable by other users.
    "UMask=0027",
)

DEFAULT_ADDRESS_FAMILIES = ("AF_UNIX", "AF_INET", "AF_INET6")


def sandboxing(options: Mapping[str, Any] | None = None) -> str:
    """The `[Service]` sandboxing lines of one unit (no trailing newline).

    options (all optional):
      read_write_paths: list[str]  paths it writes besides its State/Runtime/Cache
        directories ("-" before a path: ignored when absent, as in ReadWritePaths=).
      address_families: list[str]  socket families it opens (default AF_UNIX, AF_INET,
        AF_INET6).
      capabilities: list[str]  capabilities a process running as root keeps (default none:
        an empty bounding set).
      private_tmp: bool  a private /tmp (default true; pgBackRest's lock directory in /tmp
        must be shared between a timer's run and a manual run).
      home: "yes" | "read-only" | "tmpfs"  ProtectHome= (default "yes").
      memory_deny_write_execute: bool  default true; false for programs that generate code
        at run time (PostgreSQL's LLVM JIT).
      remove_ipc: bool  RemoveIPC= for a service with its own user (default true).
      system_call_deny: list[str]  more system-call groups to refuse (e.g. "@resources").
      proc_subset_pid: bool  ProcSubset=pid: /proc shows processes only, not the kernel's
        other files (default false: Python's and PostgreSQL's libraries read /proc/meminfo
        and the like).
      drops_privileges: bool  a root process that starts its workers as another user
        (nginx): setuid, setgroups and chown stay allowed (default false: the calls that
        need privileges, @privileged, are refused; the capability bounding set limits the
        rest either way).

    Returns the directive lines (no section header). Raises ValueError for an unknown option
    or a ProtectHome= value systemd does not take.
    """
    options = dict(options or {})
    known = {"read_write_paths", "address_families", "capabilities", "private_tmp", "home",
             "memory_deny_write_execute", "remove_ipc", "system_call_deny",
             "drops_privileges", "proc_subset_pid"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown sandboxing option(s): {', '.join(unknown)}")
    home = options.get("home", "yes")
    if home not in ("yes", "read-only", "tmpfs"):
        raise ValueError(f"home must be yes, read-only or tmpfs, not {home!r}")
    lines = list(_BASE)
    if not options.get("drops_privileges", False):
        lines.insert(lines.index("SystemCallFilter=@system-service") + 1,
                     "SystemCallFilter=~@privileged")
    lines.append(f"ProtectHome={home}")
    if options.get("private_tmp", True):
        lines.append("PrivateTmp=yes")
    families: Sequence[str] = options.get("address_families") or DEFAULT_ADDRESS_FAMILIES
    lines.append("RestrictAddressFamilies=" + " ".join(families))
    capabilities: Sequence[str] = options.get("capabilities") or ()
    lines.append("CapabilityBoundingSet=" + " ".join(capabilities))
    lines.append("AmbientCapabilities=")
    if options.get("proc_subset_pid", False):
        lines.append("ProcSubset=pid")
    if options.get("memory_deny_write_execute", True):
        lines.append("MemoryDenyWriteExecute=yes")
    if options.get("remove_ipc", True):
        lines.append("RemoveIPC=yes")
    deny: Sequence[str] = options.get("system_call_deny") or ()
    if deny:
        lines.append("SystemCallFilter=~" + " ".join(deny))
    paths: Sequence[str] = options.get("read_write_paths") or ()
    if paths:
        lines.append("ReadWritePaths=" + " ".join(paths))
    return "\n".join(lines)
