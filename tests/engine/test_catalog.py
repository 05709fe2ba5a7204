"""The model catalog: finding model files, checking them, caching the checks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgeui.engine import catalog
from edgeui.engine.catalog import format_size, inspect_model_file, list_model_files, scan_models
from edgeui.errors import ModelLoadError
from tests.helpers.modelgen import make_onnx_model, write_garbage


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    catalog.clear_cache()


def test_lists_model_files_in_folders_and_subfolders(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep" / "deeper").mkdir(parents=True)
    for rel in ("a/one.onnx", "a/two.TFLITE", "a/notes.txt", "a/.hidden.onnx",
                "a/deep/three.onnx", "a/deep/deeper/too_deep.onnx"):  # fmt: skip
        (tmp_path / rel).write_bytes(b"x")
    names = [p.name for p in list_model_files([tmp_path / "a", tmp_path / "missing"])]
    assert names == ["one.onnx", "three.onnx", "two.TFLITE"]


def test_same_file_through_two_folders_is_listed_once(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"x")
    os.symlink(tmp_path, tmp_path.parent / f"{tmp_path.name}-link")
    found = list_model_files([tmp_path, tmp_path.parent / f"{tmp_path.name}-link"])
    assert len(found) == 1


class _FakeRuntime:
    def describe(self) -> str:
        return "fake runtime · CPU"


class _FakeCard:
    class preprocess:
        width, height = 320, 240


class _FakeModel:
    task = "detection"
    runtime = _FakeRuntime()
    card = _FakeCard()


def test_status_from_loader_and_cache(tmp_path: Path) -> None:
    good = tmp_path / "good.onnx"
    good.write_bytes(b"1234")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"12")
    calls: list[str] = []

    def loader(path: Path) -> object:
        calls.append(path.name)
        if path.name == "bad.onnx":
            raise ModelLoadError(f"{path}: not a valid ONNX model; export it again.")
        return _FakeModel()

    entries = {e.name: e for e in scan_models([tmp_path], loader=loader)}
    assert entries["good"].status_ok and entries["good"].task == "detection"
    assert entries["good"].input_size == "320x240"
    assert entries["good"].runtime == "fake runtime · CPU"
    assert entries["good"].format == "ONNX" and entries["good"].size_bytes == 4
    assert not entries["bad"].status_ok
    assert "not a valid ONNX model" in entries["bad"].message


def test_unexpected_exception_becomes_a_status(tmp_path: Path) -> None:
    f = tmp_path / "x.tflite"
    f.write_bytes(b"1")

    def loader(path: Path) -> object:
        raise RuntimeError("boom")

    entry = inspect_model_file(f, loader)
    assert not entry.status_ok and "boom" in entry.message and entry.checked


def test_real_models_checked_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("edgeui.engine.modelcard.builder", reason="model card not built yet")
    make_onnx_model(tmp_path / "classifier.onnx", input_shape=(1, 3, 32, 32),
                    outputs=[np.linspace(0, 1, 10, dtype=np.float32).reshape(1, 10)])  # fmt: skip
    write_garbage(tmp_path / "garbage.onnx", prefix=b"\x08")
    (tmp_path / "empty.tflite").write_bytes(b"")
    entries = {e.name: e for e in scan_models([tmp_path])}
    assert entries["classifier"].status_ok, entries["classifier"].message
    assert entries["classifier"].task == "classification"
    assert entries["classifier"].input_size == "32x32"
    assert entries["classifier"].runtime
    assert not entries["garbage"].status_ok and "garbage.onnx" in entries["garbage"].message
    assert not entries["empty"].status_ok and "empty" in entries["empty"].message

    # Unchanged files are not loaded again; a changed file is.
    from edgeui.engine import model as model_module

    loads: list[str] = []
    real_load = model_module.Model.load.__func__

    def counting_load(cls, path, options=None):
        loads.append(Path(path).name)
        return real_load(cls, path, options)

    monkeypatch.setattr(model_module.Model, "load", classmethod(counting_load))
    scan_models([tmp_path])
    assert loads == []
    make_onnx_model(tmp_path / "classifier.onnx", input_shape=(1, 3, 48, 48))
    again = {e.name: e for e in scan_models([tmp_path])}
    assert loads == ["classifier.onnx"]
    assert again["classifier"].input_size == "48x48"


def test_missing_file_is_a_status_not_an_exception(tmp_path: Path) -> None:
    entry = inspect_model_file(tmp_path / "gone.onnx")
    assert not entry.status_ok and "not found" in entry.message


def test_format_size() -> None:
    assert format_size(812) == "812 B"
    assert format_size(3 * 1024 * 1024 + 400_000) == "3.4 MB"
