"""QA pass 8: --append never writes into another tool's file; Ctrl-C at any moment of start-up
ends without a traceback; a run that failed before any frame says one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgeui.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("flag", "content", "what"), [
    ("--csv", b"a,b,c\n1,2,3\n", "the edgeui CSV header"),
    ("--jsonl", b"2026-11-25 10:00 started\n", 'a JSON line with "frame_id"'),
])  # fmt: skip
def test_append_refuses_a_file_that_is_not_an_edgeui_results_file(
        tmp_path, det_model, capsys, flag, content, what) -> None:
    theirs = tmp_path / f"theirs{'.csv' if flag == '--csv' else '.log'}"
    theirs.write_bytes(content)
    code, _, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "1", flag, str(theirs), "--append")
    assert code == 2
    assert err == (f"edgeui: error: {theirs}: not an edgeui results file (it does not start "
                   f"with {what}), so --append would spoil it; give another file, or leave "
                   "out --append to replace it.\n")
    assert theirs.read_bytes() == content  # untouched


def test_append_still_adds_to_our_own_and_to_empty_files(tmp_path, det_model, capsys) -> None:
    ours, empty = tmp_path / "r.csv", tmp_path / "r.jsonl"
    assert run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                   "--frames", "2", "--csv", str(ours), "--jsonl", "-")[0] == 0
    empty.write_bytes(b"")
    code, _, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "1", "--csv", str(ours), "--jsonl", str(empty),
                           "--append")
    assert code == 0, err
    assert len(ours.read_text().splitlines()) == 4  # header, 2 rows, 1 more


def test_ctrl_c_while_the_command_loads_ends_it_quietly_with_130() -> None:
    """Ctrl-C lands in the middle of start-up's imports (OpenCV, numpy: the first 0.3 s):
    once they are done the command ends with 130, with no traceback."""
    script = (
        "import importlib, os, signal, sys\n"
        "from edgeui import cli\n"
        "real = importlib.import_module\n"
        "def importing(name, *args):\n"
        "    if name.startswith('edgeui.commands.'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, mid-import\n"
        "    return real(name, *args)\n"
        "importlib.import_module = importing\n"
        "sys.exit(cli.main(['sources']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "" and done.stdout == ""  # nothing listed: it never ran
