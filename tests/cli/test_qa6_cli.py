"""QA pass 6: `run | head` exit code, a signal before the first frame, `--append` numbering,
label/sidecar error wording, `bench` with few frames, `run`/`infer` model field."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "img.png"
    cv2.imwrite(str(path), np.full((64, 64, 3), 100, np.uint8))
    return path


# --- 1. `run ... | head -n 1` exits 141, quietly ------------------------------------------
def test_run_whose_reader_stops_reading_exits_141_quietly(det_model) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeui.cli", "run", str(det_model), "--source",
         "synthetic:64x64@0", "--jsonl", "-"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # like `head -n 1`: one line, then the pipe is closed
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(60) == 141, err
    assert json.loads(first)["frame_id"] == 0
    assert "Traceback" not in err and "Exception ignored" not in err
    assert " frames in " in err.splitlines()[-1]  # the summary still comes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_run_append_into_a_named_pipe_does_not_wait_for_a_writer(tmp_path, det_model) -> None:
    # A log shipper reading a FIFO: --append must not try to read the pipe's "last line".
    fifo = tmp_path / "results.pipe"
    os.mkfifo(fifo)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(fifo.read_text().splitlines()),
                              daemon=True)
    reader.start()
    done = subprocess.run(
        [sys.executable, "-m", "edgeui.cli", "run", str(det_model), "--source",
         "synthetic:64x64@0", "--frames", "2", "--jsonl", str(fifo), "--append"],
        cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["frame_id"] for line in lines] == [0, 1]


# --- 3. --append continues the frame ids ---------------------------------------------------
def _ids_jsonl(path: Path) -> list[int]:
    return [json.loads(line)["frame_id"] for line in path.read_text().splitlines()]


def _ids_csv(path: Path) -> list[int]:
    with path.open(newline="") as f:
        return [int(row["frame_id"]) for row in csv.DictReader(f)]


def test_run_append_continues_frame_ids_in_jsonl_and_csv(tmp_path, det_model, capsys) -> None:
    jsonl, table = tmp_path / "r.jsonl", tmp_path / "r.csv"
    for _ in range(2):
        code, _, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                               "--frames", "3", "--jsonl", str(jsonl), "--csv", str(table),
                               "--append")
        assert code == 0, err
    ids = _ids_jsonl(jsonl)
    assert len(ids) == 6 and ids == sorted(set(ids)), ids  # unique and increasing
    assert ids[:3] == [0, 1, 2] and ids[3] == 3
    assert _ids_csv(table) == ids
    assert "frame ids continue from 3" in err


def test_run_append_cuts_a_torn_last_line_back_to_the_last_complete_one(tmp_path, det_model,
                                                                        capsys) -> None:
    jsonl, table = tmp_path / "r.jsonl", tmp_path / "r.csv"
    jsonl.write_text('{"frame_id":0}\n{"frame_id":41}\n{"frame_id": 42, "timest')  # killed
    header = "frame_id,timestamp,source,task,count,top_label,top_score,capture_ms," \
             "preprocess_ms,inference_ms,postprocess_ms,end_to_end_ms,error\r\n"
    table.write_bytes((header + "40,1.0,x,detection,0,,,1,1,1,1,1,\r\n41,1.0,x,detection,"
                       "0,,,1,1,1,1,1,\r\n42,17").encode())
    code, _, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "2", "--jsonl", str(jsonl), "--csv", str(table),
                           "--append")
    assert code == 0, err
    lines = jsonl.read_text().splitlines()
    assert [json.loads(line)["frame_id"] for line in lines] == [0, 41, 42, 43]  # all valid
    assert _ids_csv(table) == [40, 41, 42, 43]
    with table.open(newline="") as f:
        assert all(len(row) == 13 for row in csv.reader(f))
    assert f"edgeui: {jsonl}: removed an incomplete last line left by an interrupted run\n" \
        in err
    assert f"edgeui: {table}: removed an incomplete last line" in err
    assert "frame ids continue from 42" in err


def test_cut_torn_last_line_keeps_whole_records_and_reads_only_the_end(tmp_path) -> None:
    from edgeui.engine.record import cut_torn_last_line

    path = tmp_path / "r.jsonl"
    path.write_text('{"frame_id":1}\n{"frame_id":2}')  # whole, only its newline missing
    assert cut_torn_last_line(path, "jsonl") is False
    assert path.read_text() == '{"frame_id":1}\n{"frame_id":2}\n'
    assert cut_torn_last_line(path, "jsonl") is False  # nothing to do
    pad = "x" * 200_000  # a torn line longer than one read from the end
    path.write_text(f'{{"frame_id":1}}\n{{"frame_id":2,"p":"{pad}')
    assert cut_torn_last_line(path, "jsonl") is True
    assert path.read_text() == '{"frame_id":1}\n'
    path.write_text('{"frame_id": 0, "ti')  # the first line torn: nothing left
    assert cut_torn_last_line(path, "jsonl") is True and path.read_text() == ""
    table = tmp_path / "t.csv"
    table.write_text("frame_id,timestamp,sou")  # a torn header: written again by the sink
    assert cut_torn_last_line(table, "csv") is True and table.read_text() == ""
    assert cut_torn_last_line(tmp_path / "none.jsonl", "jsonl") is False


def test_run_append_to_stdout_is_refused(det_model, capsys) -> None:
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                             "--frames", "1", "--append")
    assert code == 2 and out == ""
    assert err == ("edgeui: error: --append needs --jsonl FILE or --csv FILE; results on "
                   "stdout cannot be appended to.\n")


def test_last_frame_id_reads_long_lines_from_the_end(tmp_path) -> None:
    from edgeui.engine.record import last_frame_id

    path = tmp_path / "big.jsonl"
    pad = "x" * 200_000  # longer than one read from the end
    path.write_text(f'{{"frame_id":7,"p":"{pad}"}}\n{{"frame_id":8,"p":"{pad}"}}\n')
    assert last_frame_id(path, "jsonl") == 8
    table = tmp_path / "t.csv"
    table.write_text("frame_id,timestamp\n5,1.0\n6,2.0\n")
    assert last_frame_id(table, "csv") == 6
    table.write_text("frame_id,timestamp\n")
    assert last_frame_id(table, "csv") is None
    assert last_frame_id(tmp_path / "none.jsonl", "jsonl") is None


# --- 4. --labels that doesn't exist is worded like --sidecar ------------------------------
def test_missing_labels_option_is_one_plain_sentence(det_model, image, capsys) -> None:
    code, out, err = run_cli(capsys, "infer", str(det_model), str(image), "--labels",
                             "/nope.txt")
    assert code == 2 and out == ""
    assert err == "edgeui: error: /nope.txt: label file not found; check the path.\n"


def test_labels_or_sidecar_that_is_a_folder_says_so(det_model, image, tmp_path,
                                                    capsys) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    code, _, err = run_cli(capsys, "infer", str(det_model), str(image), "--labels", str(folder))
    assert code == 2
    assert err == (f"edgeui: error: {folder}: is a folder; give a label file (one class name "
                   "per line).\n")
    sidecar = tmp_path / "side.yaml"
    sidecar.write_text("labels: labels\n")  # relative to the sidecar: the folder above
    code, _, err = run_cli(capsys, "infer", str(det_model), str(image), "--sidecar",
                           str(sidecar))
    assert code == 2
    assert "labels 'labels' is a folder" in err and "one class name per line" in err, err
    assert "not found" not in err
    code, _, err = run_cli(capsys, "infer", str(det_model), str(image), "--sidecar",
                           str(tmp_path))
    assert code == 2
    assert err == (f"edgeui: error: {tmp_path}: is a folder; give a sidecar file (model.yaml "
                   "or model.toml).\n")


# --- 5. a broken sidecar names a line that exists -----------------------------------------
def test_broken_sidecar_names_a_line_of_the_file(det_model, image, tmp_path, capsys) -> None:
    sidecar = tmp_path / "bad.yaml"
    sidecar.write_text("task: detection\nconf: [oops\n")
    code, _, err = run_cli(capsys, "infer", str(det_model), str(image), "--sidecar",
                           str(sidecar))
    assert code == 2
    assert f"{sidecar}: not valid YAML at line 2 (conf: [oops):" in err, err
    assert "line 3" not in err


# --- 6. bench with too few frames says so ---------------------------------------------------
def test_bench_with_few_frames_warns_and_shows_rounds(det_model, capsys) -> None:
    code, out, _ = run_cli(capsys, "bench", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "3")
    assert code == 0
    assert "rounds    3 of 3 counted" in out, out
    assert "only 3 frames measured" in out and "--frames 100" in out, out
    code, out, _ = run_cli(capsys, "bench", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "3", "--json")
    data = json.loads(out)
    assert data["rounds"] == 3 and "only 3 frames measured" in data["note"]


# --- 7. `run` and `infer` name the model alike ------------------------------------------------
def test_run_and_infer_give_the_model_path_as_given(det_model, image, capsys,
                                                    monkeypatch) -> None:
    monkeypatch.chdir(det_model.parent)
    _, out, _ = run_cli(capsys, "infer", det_model.name, str(image), "--json")
    assert json.loads(out)["model"] == det_model.name
    _, out, _ = run_cli(capsys, "run", det_model.name, "--source", "synthetic:64x64@0",
                        "--frames", "1")
    assert json.loads(out.splitlines()[0])["model"] == det_model.name


def test_a_yaml_problem_without_a_line_does_not_point_at_one() -> None:
    from edgeui.engine.modelcard.sidecar import _yaml_problem

    class Unplaced(Exception):  # PyYAML errors need not carry a position
        problem, problem_mark, context_mark = "found a tab character", None, None

    message = _yaml_problem(Unplaced(), "a: 1\n")
    assert message == ("not valid YAML: found a tab character; check the indentation, "
                       "brackets and quotes.")


@pytest.mark.parametrize(("kind", "content"), [
    ("csv", b"a,b\r1,2\r3,4"),  # classic-Mac line ends: one "line" with no \n at all
    ("jsonl", b"just some notes"),  # a one-line file that is not ours
    ("csv", b"name,value\nx,1\ny,2"),  # another tool's CSV whose last row lacks its newline
    ("csv", b"frame_id,timestamp\n12,3"),  # a header that is not ours: not our file
    ("jsonl", '{"frame_id":1}\n{"a":'.encode("utf-16")),  # PowerShell's UTF-16 redirect
])  # fmt: skip
def test_append_never_cuts_what_another_tool_wrote(tmp_path, kind, content) -> None:
    from edgeui.engine.record import cut_torn_last_line

    path = tmp_path / f"theirs.{kind}"
    path.write_bytes(content)
    assert cut_torn_last_line(path, kind) is False
    assert path.read_bytes().startswith(content)  # all kept (at most a newline added)


@pytest.mark.parametrize(("jsonl", "csv_"), [
    ("{t}/r.txt", "{t}/r.txt"), ("{t}/sub/../r.txt", "{t}/r.txt"), ("-", "/dev/stdout"),
])  # fmt: skip
def test_run_refuses_one_file_for_both_outputs(tmp_path, det_model, capsys, jsonl,
                                               csv_) -> None:
    (tmp_path / "sub").mkdir()
    code, _, err = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                           "--frames", "1", "--jsonl", jsonl.format(t=tmp_path),
                           "--csv", csv_.format(t=tmp_path))
    assert code == 2 and "are one file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_csv_into_a_named_pipe_writes_its_header_without_a_crash(tmp_path) -> None:
    from edgeui.engine.record import CsvSink

    fifo = tmp_path / "rows.pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    sink = CsvSink(fifo)  # a pipe has no position to ask (tell() raised before)
    sink.close()
    reader.join(10)
    assert got and got[0].startswith("frame_id,timestamp,")
