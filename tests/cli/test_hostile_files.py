"""Hostile or broken profile and inventory files: a clear message and exit 2, quickly.

The time bounds are generous guards against an unbounded parse (a YAML alias bomb took
over 60 s before the bound), not benchmarks: GENEROUS_BOUND_S is several times what a
refusal takes here (well under a second), so a slow test machine does not fail them.
"""

import os
import time

from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.profiles.yaml_source import MAX_FILE_BYTES

runner = CliRunner()
GENEROUS_BOUND_S = 5


def validate(path):
    start = time.monotonic()
    result = runner.invoke(app, ["profiles", "validate", str(path)])
    return result, time.monotonic() - start


def test_a_profile_that_is_not_utf8_names_the_file_line_and_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: x\nextends: small\nschool: École\n".encode("latin-1"))
    result, _ = validate(path)
    assert result.exit_code == 2, result.output
    offset = len(b"name: x\nextends: small\nschool: ")
    assert f"{path}:3: not UTF-8: byte 0xc9 at byte offset {offset}" in result.output
    assert "Traceback" not in result.output


def alias_bomb(*head: str) -> str:
    """A billion laughs: 9**10 values from ten lines of aliases."""
    lines = [*head, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def many_duplicate_keys(*head: str, under: str) -> str:
    """30 duplicate keys under `under`: 30 problems."""
    keys = "".join(f"  k{i}: 1\n  k{i}: 2\n" for i in range(30))
    return "\n".join(head) + f"\n{under}:\n{keys}"


def test_a_yaml_alias_bomb_is_refused_well_within_a_generous_bound(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb("name: x", "extends: small"), encoding="utf-8")
    result, seconds = validate(path)
    assert result.exit_code == 2, result.output
    assert "more than 100,000 values (YAML aliases expand to too much)" in result.output
    assert seconds < GENEROUS_BOUND_S, seconds


def test_a_file_over_the_size_bound_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\nextends: small\n" + "# padding\n" * (MAX_FILE_BYTES // 10),
                    encoding="utf-8")
    result, seconds = validate(path)
    assert result.exit_code == 2, result.output
    assert f"{path}: file is larger than {MAX_FILE_BYTES:,} bytes" in result.output
    assert seconds < GENEROUS_BOUND_S, seconds


def test_a_device_or_a_pipe_is_refused_at_once(tmp_path):
    """/dev/zero reports size 0 and never ends; a FIFO has no writer: neither is read."""
    fifo = tmp_path / "profile.fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        result, seconds = validate(path)
        assert result.exit_code == 2, result.output
        assert f"{path}: is not a regular file" in result.output
        assert seconds < GENEROUS_BOUND_S, seconds


def test_a_key_that_is_a_list_or_mapping_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "complex-key.yaml"
    path.write_text("? [a, b]\n: 1\nname: x\nhosts:\n  ? {a: 1}\n  : 1\n", encoding="utf-8")
    result, _ = validate(path)
    assert result.exit_code == 2, result.output
    assert f"{path}:1: (top level): a key must be a plain word" in result.output
    assert f"{path}:5: hosts: a key must be a plain word" in result.output
    assert "Traceback" not in result.output


def test_deep_nesting_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nextends: small\nx: " + "[" * 5000 + "]" * 5000 + "\n",
                    encoding="utf-8")
    result, _ = validate(path)
    assert result.exit_code == 2, result.output
    assert "nested" in result.output
    assert "Traceback" not in result.output


def test_at_most_twenty_problems_are_printed_then_a_count(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(many_duplicate_keys("name: x", "extends: small", under="x"),
                    encoding="utf-8")
    result, _ = validate(path)
    assert result.exit_code == 2, result.output
    assert result.output.count("duplicate key") == 20, result.output
    assert "... and 10 more problem(s) not shown" in result.output


def test_a_hostile_inventory_is_refused_like_a_profile(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_bytes(b"ssh: {user: root}\nhosts:\n  web:\n    - {name: web-1, address: \xff}\n")
    result = runner.invoke(app, ["plan", "--profile", "small", "--inventory", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:4: not UTF-8: byte 0xff" in result.output


def plan_with_inventory(path):
    start = time.monotonic()
    result = runner.invoke(app, ["plan", "--profile", "small", "--inventory", str(path)])
    return result, time.monotonic() - start


def test_an_alias_bomb_inventory_is_refused_well_within_a_generous_bound(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text(alias_bomb("ssh: {user: root}"), encoding="utf-8")
    result, seconds = plan_with_inventory(path)
    assert result.exit_code == 2, result.output
    assert f"{path}:2: more than 100,000 values (YAML aliases expand to too much)" \
        in result.output
    assert "Traceback" not in result.output
    assert seconds < GENEROUS_BOUND_S, seconds


def test_an_inventory_over_the_size_bound_is_refused_before_parsing(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text("ssh: {user: root}\n" + "# padding\n" * (MAX_FILE_BYTES // 10),
                    encoding="utf-8")
    result, seconds = plan_with_inventory(path)
    assert result.exit_code == 2, result.output
    assert f"{path}: file is larger than {MAX_FILE_BYTES:,} bytes" in result.output
    assert seconds < GENEROUS_BOUND_S, seconds


def test_an_inventory_prints_at_most_twenty_problems_then_a_count(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text(many_duplicate_keys("ssh: {user: root}", under="hosts"), encoding="utf-8")
    result, _ = plan_with_inventory(path)
    assert result.exit_code == 2, result.output
    assert result.output.count("duplicate key") == 20, result.output
    assert "... and 10 more problem(s) not shown" in result.output
