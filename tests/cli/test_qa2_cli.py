"""QA pass 2: bench on files and live sources, run output files, sidecar labels, providers."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from edgeui.engine.bench import BenchReport, bench_source_options
from edgeui.engine.stats import Percentiles
from tests.helpers.modelgen import make_onnx_model


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- 9: bench reads files unpaced and says when a live source is the limit ---------------

@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame clip whose own rate is 2 fps: played at that rate, 20 frames take 10 s."""
    path = tmp_path_factory.mktemp("clips") / "slow.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 2.0, (96, 64))
    for i in range(6):
        writer.write(np.full((64, 96, 3), 30 * i, np.uint8))
    writer.release()
    return path


def test_bench_reads_a_video_file_unpaced_and_looped(det_model, slow_clip, capsys) -> None:
    code, stdout, stderr = run_cli(capsys, "bench", str(det_model), "--source", str(slow_clip),
                                   "--frames", "20", "--warmup", "2", "--json")
    assert code == 0, stderr
    data = json.loads(stdout)
    # 22 frames of a 6-frame file: it looped; far above the file's 2 fps: not paced.
    assert data["pipeline_fps"] > 10
    assert data["source_live"] is False and data["source_limited"] is False
    assert data["note"].startswith("only 20 frames measured")  # and no pacing note
    assert "end of file" not in stderr


def test_bench_options_for_each_kind_of_source(tmp_path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    assert bench_source_options("clip.mp4") == {"realtime": False, "loop": True}
    assert bench_source_options(str(tmp_path)) == {"fps": None, "loop": True}
    assert bench_source_options(str(tmp_path / "*.png")) == {"fps": None, "loop": True}
    assert bench_source_options("synthetic:64x64@30") == {}
    assert bench_source_options("rtsp://127.0.0.1:9/x") == {}


def test_bench_notes_a_live_source_that_sets_the_rate(det_model, capsys) -> None:
    code, stdout, stderr = run_cli(capsys, "bench", str(det_model), "--source",
                                   "synthetic:128x96@20", "--frames", "8", "--warmup", "1")
    assert code == 0, stderr
    assert "(live, at its own rate)" in stdout
    note = [line for line in stdout.splitlines() if line.startswith("note")]
    assert len(note) == 1
    assert "the source delivers" in note[0] and "the pipeline cannot go faster" in note[0]
    assert "synthetic:640x480@0" in note[0]


def _report(**kw: object) -> BenchReport:
    base: dict = dict(model="m", runtime="r", source="s", frames=200, load_ms=1.0,
                      first_inference_ms=1.0, bare_fps=200.0, pipeline_fps=29.5,
                      bare_inference_ms=Percentiles(5.0, 5.0, 5.0), source_live=True,
                      capture_fps=30.0)
    base.update(kw)
    return BenchReport(**base)


def test_source_limit_only_for_a_live_source_slower_than_the_model() -> None:
    limited = _report().to_dict()
    assert limited["source_limited"] is True and "30.0 fps" in limited["note"]
    assert _report(source_live=False).to_dict()["note"] is None  # a file: no pacing
    assert _report(pipeline_fps=12.0).to_dict()["note"] is None  # the pipeline is slower
    # A model slower than the camera: the model is the limit, not the source.
    assert _report(bare_fps=25.0, pipeline_fps=24.0).to_dict()["note"] is None
    assert _report(capture_fps=0.0).to_dict()["note"] is None


# --- 11: --jsonl/--csv files start anew unless --append ----------------------------------

def _run_to_files(capsys, model: Path, jsonl: Path, csv_path: Path, *extra: str) -> None:
    code, _, stderr = run_cli(capsys, "run", str(model), "--source", "synthetic:64x48@0",
                              "--frames", "3", "--jsonl", str(jsonl), "--csv", str(csv_path),
                              *extra)
    assert code == 0, stderr


def test_run_replaces_existing_result_files(tmp_path, det_model, capsys) -> None:
    jsonl, csv_path = tmp_path / "a.jsonl", tmp_path / "a.csv"
    jsonl.write_text('{"left": "over"}\n' * 5)
    csv_path.write_text("old,header\n1,2\n")
    _run_to_files(capsys, det_model, jsonl, csv_path)
    _run_to_files(capsys, det_model, jsonl, csv_path)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 3 and [r["frame_id"] for r in records] == sorted(
        r["frame_id"] for r in records)
    assert all("left" not in r for r in records)
    rows = csv_path.read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("frame_id,")


def test_run_append_adds_to_result_files(tmp_path, det_model, capsys) -> None:
    jsonl, csv_path = tmp_path / "b.jsonl", tmp_path / "b.csv"
    _run_to_files(capsys, det_model, jsonl, csv_path, "--append")
    _run_to_files(capsys, det_model, jsonl, csv_path, "--append")
    assert len(jsonl.read_text().splitlines()) == 6
    rows = csv_path.read_text().splitlines()
    assert len(rows) == 7 and sum(r.startswith("frame_id,") for r in rows) == 1


def test_systemd_unit_appends_to_its_results_file() -> None:
    unit = (Path(__file__).resolve().parents[2] / "packaging/systemd/edgeui-run.service")
    text = unit.read_text()
    assert "--jsonl /var/lib/edgeui/results.jsonl" in text and "--append" in text


def test_systemd_units_command_line_is_one_edgeui_run_accepts() -> None:
    import argparse
    import shlex

    from edgeui.commands import run as run_command

    unit = (Path(__file__).resolve().parents[2] / "packaging/systemd/edgeui-run.service")
    line = unit.read_text().split("ExecStart=", 1)[1].split("\nStateDirectory", 1)[0]
    argv = shlex.split(line.replace("\\\n", " "))
    assert argv[:2] == ["/opt/edgeui/.venv/bin/edgeui", "run"]
    parser = argparse.ArgumentParser(exit_on_error=False)
    run_command.add_arguments(parser)
    args = parser.parse_args(argv[2:])
    assert run_command.source_options(args)["fourcc"] == "MJPG"


# --- 16: the user's label list must be able to label the model's classes ------------------

@pytest.mark.parametrize("names", [["a"], ["n0", "n1", "n2", "n3", "n4", "n5"]])
def test_sidecar_label_list_of_a_wrong_length_is_one_sentence(tmp_path, det_model, capsys,
                                                              names) -> None:
    side = tmp_path / "labels.yaml"
    side.write_text(f"labels: [{', '.join(names)}]\n")
    code, stdout, stderr = run_cli(capsys, "inspect", str(det_model), "--sidecar", str(side))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    said = "1 name" if len(names) == 1 else f"{len(names)} names"
    assert (f"labels.yaml: labels: {said} cannot label the model's 3 classes; "
            "give 3 names, 4 with 'background' first or 2 when class 0 is an unnamed "
            "background.") in stderr


@pytest.mark.parametrize(("names", "first"), [
    (["cat", "dog", "bird"], "cat"),                 # one name per class
    (["background", "cat", "dog", "bird"], "cat"),   # a background entry first: skipped
    (["dog", "bird"], "class 0"),                    # output 0 an unnamed background
])
def test_sidecar_label_counts_that_fit_are_accepted(tmp_path, det_model, capsys, names,
                                                    first) -> None:
    side = tmp_path / "labels.yaml"
    side.write_text(f"labels: [{', '.join(names)}]\n")
    code, _, stderr = run_cli(capsys, "inspect", str(det_model), "--sidecar", str(side),
                              "--json")
    assert code == 0, stderr
    from edgeui.engine.model import Model, ModelOptions

    card = Model.load(det_model, ModelOptions(sidecar=side)).card
    assert card.labels.name(0) == first and card.labels.name(1) == "dog"


def test_labels_option_file_of_a_wrong_length_is_an_error(tmp_path, det_model, capsys) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"n{i}" for i in range(10)) + "\n")
    code, _, stderr = run_cli(capsys, "inspect", str(det_model), "--labels", str(names))
    assert code == 2
    assert f"--labels {names}: 10 names cannot label the model's 3 classes" in stderr



def test_label_count_check_follows_an_explicit_offset_and_unknown_counts() -> None:
    from edgeui.engine.modelcard.labels import check_label_count
    from edgeui.errors import SidecarError

    check_label_count(["bg", "x", "a", "b", "c"], 3, "s.yaml", offset=2)  # names[i + 2]
    check_label_count(["a"], None, "s.yaml")  # SSD post-process: the count is unknown
    with pytest.raises(SidecarError, match=r"^s\.yaml: 3 names cannot label the model's "
                       r"1 class; give 1 name or 2 with 'background' first\.$"):
        check_label_count(["a", "b", "c"], 1, "s.yaml")


# --- 17: a provider typo is an error; --delegate on an ONNX model is not silently ignored --

def test_unknown_provider_name_is_exit_2_listing_the_short_names(tmp_path, det_model,
                                                                  capsys) -> None:
    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    code, stdout, stderr = run_cli(capsys, "infer", str(det_model), str(image),
                                   "--provider", "foo")
    assert code == 2 and stdout == "" and stderr.count("\n") == 1
    assert stderr.startswith("edgeui: error: --provider: unknown execution provider 'foo'; "
                             "use one of cpu, cuda, ")
    assert "tensorrt" in stderr and "openvino" in stderr and "CUDAExecutionProvider" in stderr


def test_provider_names_known_or_not(det_model, caplog) -> None:
    import onnxruntime as ort

    from edgeui.engine.runtimes.base import RuntimeOptions, load_runtime
    from edgeui.engine.runtimes.onnx import check_provider_name, known_provider_names
    from edgeui.errors import ConfigError

    known = known_provider_names(ort)
    assert check_provider_name("CPU", known) == "CPUExecutionProvider"
    assert check_provider_name("rknpu", known) == "RknpuExecutionProvider"
    assert check_provider_name("CUDAExecutionProvider", known) == "CUDAExecutionProvider"
    # The engine refuses a typo too (the app and the API do not go through argparse).
    with pytest.raises(ConfigError, match=r"^unknown execution provider 'cpuu'; use one of cpu"):
        load_runtime(det_model, RuntimeOptions(providers=("cpuu", "cpu")))
    # A known provider this build lacks still only warns and falls back.
    with caplog.at_level("WARNING"):
        rt = load_runtime(det_model, RuntimeOptions(providers=("rknpu", "cpu")))
    assert rt.providers == ("CPUExecutionProvider",)
    assert "not available in this onnxruntime build" in caplog.text


def test_delegate_for_an_onnx_model_warns_once(tmp_path, det_model) -> None:
    import subprocess
    import sys

    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from edgeui.cli import main; sys.exit(main())",
         "infer", str(det_model), str(image), "--delegate", "libedgetpu.so.1", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)  # stdout stays clean JSON
    lines = [line for line in proc.stderr.splitlines() if "--delegate" in line]
    assert lines == ["edgeui: warning: det.onnx: --delegate applies to TFLite models; "
                     "ignored for an ONNX model."], proc.stderr


def test_bench_on_an_unreachable_stream_says_it_once(tmp_path, capsys):
    model = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32))
    code = main(["bench", str(model), "--source", "rtsp://127.0.0.1:9/x", "--frames", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("cannot connect") == 1, err
    assert "rtsp://127.0.0.1:9/x: rtsp://" not in err


def test_bench_capture_rate_is_the_sources_own_rate_not_diluted_by_pauses():
    """Rounds are separated by bare-runtime runs; the rate meter must not count those."""
    from edgeui.engine.bench import run_bench
    from tests.helpers.fake_model import FakeModel

    # 10 ms per inference: each bare run between the rounds pauses the source ~0.1 s.
    report = run_bench(lambda: FakeModel(0.01), source="synthetic:64x48@40", frames=40,
                       rounds=4)
    assert report.capture_fps == pytest.approx(40.0, rel=0.1)
    assert report.source_limited


def test_run_refuses_csv_and_json_lines_both_on_stdout(tmp_path, capsys):
    model = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32))
    code = main(["run", str(model), "--source", "synthetic:32x32@0", "--frames", "2",
                 "--csv", "-"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("edgeui: error: --csv - and the JSON lines would both go to stdout")
    # With the JSON lines in a file, the CSV may have stdout.
    code = main(["run", str(model), "--source", "synthetic:32x32@0", "--frames", "2",
                 "--csv", "-", "--jsonl", str(tmp_path / "r.jsonl")])
    out, _ = capsys.readouterr()
    assert code == 0 and out.splitlines()[0].startswith("frame_id")


def test_inspect_gives_a_tiny_model_a_readable_size(tmp_path, capsys):
    model = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32))
    assert main(["inspect", str(model)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "0.00 MB" not in first and first.endswith((" B", " KB"))
