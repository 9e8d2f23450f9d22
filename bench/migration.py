"""Tier migration's data path, timed: a generated school on SQLite -> a throwaway PostgreSQL.

Times each step `ssas-deploy migrate` runs on the hosts: export_tables (SQLite), migrate
and import_tables (PostgreSQL, one transaction), table_checksums on both sides, and checks
the two sides are equal. Prints figures, asserts nothing about time. Needs the app in
this interpreter (bash scripts/setup.sh) and PostgreSQL 15 server binaries (as root, the
`postgres` account runs the throwaway cluster, like app/tests/run.sh).
Usage: python bench/migration.py [--students 3000] [--no-train]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> tuple[float, str]:
    """Seconds and stdout of one `manage.py ARGS` (raises with stderr on failure)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(APP / "manage.py"), *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


def start_postgres(work: Path) -> tuple[list[str], Path, int]:
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(work, "postgres")
    data, port = work / "pg", free_port()
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                    "-A", "trust", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l",
                    str(work / "pg.log"), "-w", "-t", "60", "start", "-o",
                    f"-h 127.0.0.1 -p {port} -k {work}"], check=True, stdout=subprocess.DEVNULL)
    return run_as, data, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--no-train", action="store_true", help="Skip train_models.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssas-bench-migrate-"))
    os.chmod(work, 0o755)
    run_as, data, port = start_postgres(work)
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
            "SSAS_DATA_DIR": str(work / "data"), "PYTHONPATH": str(APP / "src")}
    sqlite = {k: v for k, v in base.items() if k != "SSAS_TEST_DATABASE_URL"}
    postgres = {**base, "SSAS_TEST_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    dump = work / "export.jsonl"
    figures = []
    try:
        manage(sqlite, "migrate", "--noinput", "-v0")
        seconds, _ = manage(sqlite, "generate_school", "--students", str(args.students),
                            "--seed", "1")
        print(f"generated {args.students} students on SQLite in {seconds:.1f} s")
        if not args.no_train:
            seconds, _ = manage(sqlite, "train_models")
            print(f"trained the models in {seconds:.1f} s")
        figures.append(("export_tables (SQLite)", manage(sqlite, "export_tables", "--output",
                                                         str(dump))[0]))
        figures.append(("migrate (PostgreSQL, empty schema)",
                        manage(postgres, "migrate", "--noinput", "-v0")[0]))
        seconds, said = manage(postgres, "import_tables", "--input", str(dump))
        figures.append(("import_tables (PostgreSQL, one transaction)", seconds))
        seconds, left = manage(sqlite, "table_checksums", "--json")
        figures.append(("table_checksums (SQLite)", seconds))
        seconds, right = manage(postgres, "table_checksums", "--json")
        figures.append(("table_checksums (PostgreSQL)", seconds))
        source, target = json.loads(left), json.loads(right)
        same = ([(t["table"], t["rows"], t["checksum"]) for t in source["tables"]]
                == [(t["table"], t["rows"], t["checksum"]) for t in target["tables"]])
        sequences = all(t["sequence_ok"] for t in target["tables"] if t["auto_pk"])
        rows = sum(t["rows"] for t in source["tables"])
        print(f"{said.strip()} Export: {dump.stat().st_size / 1e6:.1f} MB, {rows} rows in "
              f"{len(source['tables'])} tables.")
        for name, seconds in figures:
            print(f"  {name:<45} {seconds:7.1f} s")
        total = sum(s for n, s in figures if not n.startswith("migrate"))
        print(f"  {'copy + verify (without the schema)':<45} {total:7.1f} s")
        print(f"every table equal on both engines: {same}; sequences past max ids: {sequences}")
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
