"""QA pass 2: EXIF orientation, per-file sources for image folders, model format by content."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from edgeui.engine.imageio import decode_image
from edgeui.engine.runtimes.base import load_runtime, model_format, sniff_format
from edgeui.engine.sources.images import ImageSource
from edgeui.errors import ModelLoadError
from tests.helpers.modelgen import make_onnx_model, make_tflite_model, write_garbage

RED = (0, 0, 255)


def upright_image(h: int = 60, w: int = 100) -> np.ndarray:
    """A clearly asymmetric picture: wider than tall, a red block in the top-left corner."""
    img = np.full((h, w, 3), 40, np.uint8)
    img[: h // 3, : w // 4] = RED
    return img


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """``jpeg`` with an APP1 Exif segment (little-endian TIFF, one IFD entry: 0x0112 SHORT)
    inserted right after the SOI marker, as a phone writes it."""
    assert jpeg[:2] == b"\xff\xd8"
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def write_phone_jpeg(path: Path, upright: np.ndarray, orientation: int = 6) -> Path:
    """Store ``upright`` the way a camera does: pixels turned, the tag saying how to undo it."""
    stored = {
        6: cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE),  # viewer turns it clockwise
        8: cv2.rotate(upright, cv2.ROTATE_90_CLOCKWISE),
        3: cv2.rotate(upright, cv2.ROTATE_180),
        1: upright,
    }[orientation]
    ok, buf = cv2.imencode(".jpg", stored, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    path.write_bytes(with_exif_orientation(buf.tobytes(), orientation))
    return path


def red_corner(img: np.ndarray) -> tuple[bool, bool]:
    """(top, left): where the red block lies in a decoded BGR image."""
    mask = (img[..., 2] > 180) & (img[..., 0] < 90)
    ys, xs = np.nonzero(mask)
    assert len(ys) > 50, "no red block found"
    h, w = img.shape[:2]
    return ys.mean() < h / 2, xs.mean() < w / 2


# --------------------------------------------------------------------- 1. EXIF orientation


@pytest.mark.parametrize("orientation", [6, 8, 3, 1])
def test_decode_image_applies_exif_orientation(tmp_path, orientation) -> None:
    path = write_phone_jpeg(tmp_path / "phone.jpg", upright_image(), orientation)
    raw = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    if orientation in (6, 8):
        assert raw.shape[:2] == (100, 60)  # the file really stores the pixels sideways
    img = decode_image(path)
    assert img is not None and img.dtype == np.uint8 and img.flags["C_CONTIGUOUS"]
    assert img.shape == (60, 100, 3)
    assert red_corner(img) == (True, True)


def test_decode_image_still_converts_gray_bgra_and_16_bit(tmp_path) -> None:
    gray = np.arange(12 * 20, dtype=np.uint8).reshape(12, 20)
    bgra = np.dstack([upright_image(12, 20), np.full((12, 20), 7, np.uint8)])
    deep = (upright_image(12, 20).astype(np.uint16) << 8) | 0xFF
    for name, img in {"g.png": gray, "a.png": bgra, "d.png": deep, "g16.png": deep[..., 0]}.items():
        cv2.imwrite(str(tmp_path / name), img)
    assert np.array_equal(decode_image(tmp_path / "g.png"), cv2.merge([gray] * 3))
    assert np.array_equal(decode_image(tmp_path / "a.png"), upright_image(12, 20))
    assert np.array_equal(decode_image(tmp_path / "d.png"), upright_image(12, 20))
    assert np.array_equal(decode_image(tmp_path / "g16.png"),
                          cv2.merge([upright_image(12, 20)[..., 0]] * 3))
    assert decode_image(tmp_path / "missing.png") is None


def test_image_sources_show_phone_photos_upright(tmp_path) -> None:
    write_phone_jpeg(tmp_path / "a.jpg", upright_image(), 6)
    write_phone_jpeg(tmp_path / "b.jpg", upright_image(), 8)
    for uri, kwargs in [(str(tmp_path / "a.jpg"), {}), (str(tmp_path), {}),
                        (str(tmp_path / "*.jpg"), {"hold": 1.0})]:  # fmt: skip
        src = ImageSource(uri, **kwargs)
        src.open()
        frame = src.read()
        src.close()
        assert frame is not None and frame.image.shape == (60, 100, 3), uri
        assert red_corner(frame.image) == (True, True), uri


def test_infer_reports_the_upright_image_size(tmp_path, capsys) -> None:
    photo = write_phone_jpeg(tmp_path / "portrait.jpg", upright_image(), 6)
    model = make_onnx_model(tmp_path / "cls.onnx", input_shape=(1, 3, 32, 32))
    code = main(["infer", str(model), str(photo), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["image"] == {"width": 100, "height": 60}


# --------------------------------------------------------- 10. a folder's frames name their file


def three_pngs(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i, (h, w) in enumerate([(40, 50), (30, 70), (64, 32)]):  # sizes tell them apart
        paths.append(folder / f"img{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((h, w, 3), 60 * i, np.uint8))
    return paths


def test_run_on_a_folder_names_each_file_as_the_source(tmp_path, capsys) -> None:
    paths = three_pngs(tmp_path / "photos")
    model = make_onnx_model(tmp_path / "cls.onnx", input_shape=(1, 3, 32, 32))
    for uri in (str(tmp_path / "photos"), str(tmp_path / "photos" / "*.png")):
        code = main(["run", str(model), "--source", uri, "--jsonl", "-"])
        out, err = capsys.readouterr()
        assert code == 0, err
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert [rec["source"] for rec in lines] == [str(p) for p in paths], uri
        sizes = [(rec["image"]["height"], rec["image"]["width"]) for rec in lines]
        assert sizes == [(40, 50), (30, 70), (64, 32)]


def test_held_and_looping_slideshow_frames_carry_their_file(tmp_path) -> None:
    paths = three_pngs(tmp_path / "photos")
    src = ImageSource(str(tmp_path / "photos"), loop=True)
    src.open()
    seen = [src.read() for _ in range(4)]
    src.close()
    assert [f.source for f in seen] == [str(p) for p in paths + paths[:1]]
    assert [f.frame_id for f in seen] == [0, 1, 2, 3]
    held = ImageSource(str(paths[1]), hold=5.0, motion=True)  # paced: read() may say None
    held.open()
    frames = [f for f in (held.read() for _ in range(40)) if f is not None][:2]
    held.close()
    assert len(frames) == 2 and all(f.source == str(paths[1]) for f in frames)


# ----------------------------------------- 12. a model's format is read from its content


def tiny_image(tmp_path: Path) -> Path:
    path = tmp_path / "img.png"
    cv2.imwrite(str(path), np.zeros((16, 16, 3), np.uint8))
    return path


def cli_error(capsys, *args: str) -> str:
    """The one error sentence the CLI gives (exit 2, nothing on stdout)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out, err)
    line = err.strip()
    assert line.startswith("edgeui: error: ") and "\n" not in line, err
    return line.removeprefix("edgeui: error: ")


@pytest.fixture
def models(tmp_path) -> dict[str, Path]:
    """A valid ONNX and a valid TFLite model, each also copied under misleading names."""
    onnx = make_onnx_model(tmp_path / "real.onnx", input_shape=(1, 3, 16, 16))
    tflite = make_tflite_model(tmp_path / "real.tflite", input_shape=(1, 16, 16, 3))
    out = {"onnx": onnx, "tflite": tflite}
    for name, src in [("tflite_as.onnx", tflite), ("onnx_as.tflite", onnx),
                      ("onnx_as.bin", onnx), ("tflite_as.bin", tflite)]:  # fmt: skip
        out[name] = tmp_path / name
        shutil.copyfile(src, out[name])
    return out


def test_sniff_format_reads_the_content_not_the_name(models, tmp_path) -> None:
    assert sniff_format(models["tflite_as.onnx"]) == ".tflite"
    assert sniff_format(models["onnx_as.tflite"]) == ".onnx"
    assert model_format(models["onnx_as.bin"]) == ".onnx"
    # Garbage that merely starts with 0x08 is not conclusive: the suffix decides, and the
    # runtime's "corrupt or truncated" sentence stands.
    junk = write_garbage(tmp_path / "junk.tflite", prefix=b"\x08")
    assert sniff_format(junk) == "" and model_format(junk) == ".tflite"


@pytest.mark.parametrize(("name", "real", "claimed", "fix"), [
    ("tflite_as.onnx", "a TFLite", "ONNX", "tflite_as.tflite"),
    ("onnx_as.tflite", "an ONNX", "TFLite", "onnx_as.onnx"),
])  # fmt: skip
def test_a_renamed_model_says_what_it_is_and_how_to_fix_it(models, tmp_path, capsys,
                                                           name, real, claimed, fix) -> None:
    with pytest.raises(ModelLoadError) as info:
        load_runtime(models[name])
    msg = str(info.value)
    assert f"this file is {real} model, not {claimed}; rename it to {fix}." in msg
    assert "corrupt" not in msg
    assert cli_error(capsys, "infer", str(models[name]), str(tiny_image(tmp_path))) == msg
    # inspect names the file's real format, with the same sentence.
    assert main(["inspect", str(models[name]), "--json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["file"]["format"] == real.split()[1]
    assert payload["error"] == msg and payload["loadable"] is False


@pytest.mark.parametrize(("name", "fmt", "runtime"), [
    ("onnx_as.bin", "ONNX", "onnxruntime"), ("tflite_as.bin", "TFLite", "LiteRT"),
])  # fmt: skip
def test_inspect_reports_the_format_the_runtime_uses(models, capsys, name, fmt, runtime) -> None:
    assert main(["inspect", str(models[name]), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["file"]["format"] == fmt
    assert payload["runtime"].lower().startswith(runtime.lower())


@pytest.mark.parametrize("folder", ["models", "dir.onnx", "dir.tflite"])
def test_a_folder_given_as_the_model_is_called_a_folder(tmp_path, capsys, folder) -> None:
    path = tmp_path / folder
    path.mkdir()
    expected = f"{path}: is a folder; give the path of a .onnx or .tflite file."
    assert cli_error(capsys, "infer", str(path), str(tiny_image(tmp_path))) == expected
    assert cli_error(capsys, "inspect", str(path)) == expected
