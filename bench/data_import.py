"""`data import` of 100,000 score rows: first import, the same files again (no change), and a
row-by-row baseline, timed in one run.

Generates the files (schools, years, 10 subjects, students, scores: students x 10 subjects x
2 years x 3 terms ~ --rows) and imports them
- locally (default) into a throwaway PostgreSQL 15 with the app's `import_data`; the
  baseline is Django's `update_or_create` per row (what a hand-written import does) on a
  sample of --baseline-rows score rows, scaled to all rows;
- or with `--inventory I [--profile P]` through `ssas-deploy data import` into a deployed
  site (the files go over SSH to its first web host; the baseline is skipped there).

Prints seconds, rows per second and the ratios; asserts nothing about time.
Usage: python bench/data_import.py [--rows 100000] [--inventory hosts.yaml --profile small]
"""

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migration import PG_BIN, manage, start_postgres

SUBJECTS = ["MATH", "ENGL", "PHYS", "CHEM", "BIO", "ECON", "GEOG", "HIST", "COMP", "ART"]
YEARS = [("2024/2025", "2024-09-02", "2025-07-18", "no"),
         ("2025/2026", "2025-09-01", "2026-07-17", "yes")]

BASELINE = """
import csv, time
from decimal import Decimal
from ssas.students.models import AcademicYear, Student, StudentScore, Subject
rows = list(csv.DictReader(open({path!r})))[:{limit}]
start = time.perf_counter()
for r in rows:
    StudentScore.objects.update_or_create(
        student=Student.objects.get(school__code=r["school"], student_id=r["student_id"]),
        subject=Subject.objects.get(code=r["subject"]),
        academic_year=AcademicYear.objects.get(name=r["academic_year"]), term=int(r["term"]),
        defaults={{"total_score": Decimal(r["total_score"])}})
print(len(rows), time.perf_counter() - start)
"""


def write_files(directory: Path, rows: int) -> tuple[list[Path], int]:
    """The five files; returns them and the number of score rows."""
    random.seed(20261201)
    students = -(-rows // (len(SUBJECTS) * len(YEARS) * 3))
    files = {
        "schools.csv": [("code", "name"), ("bench", "Bench Secondary")],
        "academic_years.csv": [("name", "start_date", "end_date", "is_current"), *YEARS],
        "subjects.csv": [("code", "name"), *((code, code.title()) for code in SUBJECTS)],
        "students.csv": [("school", "student_id", "first_name", "last_name", "grade",
                          "class_name"),
                         *(("bench", f"B{n:05d}", f"First{n}", f"Last{n}", 7 + n % 6,
                            f"{7 + n % 6}{'ABC'[n % 3]}") for n in range(students))],
        "scores.csv": [("school", "student_id", "subject", "academic_year", "term",
                        "total_score"),
                       *(("bench", f"B{n:05d}", subject, year[0], term,
                          random.randint(20, 100))
                         for n in range(students) for subject in SUBJECTS for year in YEARS
                         for term in (1, 2, 3))],
    }
    for name, lines in files.items():
        with open(directory / name, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(lines)
    return [directory / name for name in files], len(files["scores.csv"]) - 1


def timed_cli(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ssas_deploy", *args], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"ssas-deploy {' '.join(args[:2])} failed:\n{done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=3000)
    parser.add_argument("--inventory")
    parser.add_argument("--profile", default="small")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssas-bench-import-"))
    os.chmod(work, 0o755)
    files, scores = write_files(work, args.rows)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"files: {scores} score rows, {size:.1f} MB in all")
    if args.inventory:
        target = ["--inventory", args.inventory, "--profile", args.profile]
        first = timed_cli("data", "import", *map(str, files), *target)
        again = timed_cli("data", "import", *map(str, files), *target)
        report(scores, first, again, None)
        print("the bench school stays on the site; remove it in the admin when done")
        return
    run_as, data, port = start_postgres(work)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
           "SSAS_DATA_DIR": str(work / "data"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "app" / "src"),
           "SSAS_TEST_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    try:
        manage(env, "migrate", "--noinput", "-v0")
        first, _ = manage(env, "import_data", *map(str, files))
        again, _ = manage(env, "import_data", *map(str, files))
        manage(env, "shell", "-c", "from ssas.students.models import StudentScore as S; "
                                   "S.objects.all().delete()")
        _, said = manage(env, "shell", "-c", BASELINE.format(path=str(files[-1]),
                                                             limit=args.baseline_rows))
        sample, seconds = said.split()[-2:]
        report(scores, first, again, float(seconds) / int(sample))
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def report(scores: int, first: float, again: float, per_row: float | None) -> None:
    print(f"  {'first import (all files)':<42} {first:7.1f} s  {scores / first:9.0f} rows/s")
    print(f"  {'same files again (nothing changes)':<42} {again:7.1f} s  "
          f"{scores / again:9.0f} rows/s")
    if per_row is not None:
        baseline = per_row * scores
        print(f"  {'baseline: update_or_create per row':<42} {baseline:7.1f} s  "
              f"{1 / per_row:9.0f} rows/s (scaled from a sample)")
        print(f"  first import / baseline: {first / baseline:.3f}x")


if __name__ == "__main__":
    main()
