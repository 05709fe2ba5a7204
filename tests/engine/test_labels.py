"""Label files: formats, finding them beside a model, and the background offset."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeui.engine.modelcard.labels import (
    find_label_file,
    parse_label_text,
    read_label_file,
    resolve_offset,
)
from edgeui.engine.types import Labels
from edgeui.errors import SidecarError


def test_one_name_per_line_keeps_commas_and_blank_positions():
    names, fmt, _ = parse_label_text("background\ntench, Tinca tinca\n\ngoldfish\n")
    assert fmt == "lines"
    assert names == ("background", "tench, Tinca tinca", "", "goldfish")


def test_coral_id_name_lines_are_placed_by_id():
    names, fmt, _ = parse_label_text("0  person\n1  bicycle\n3  motorcycle\n")
    assert fmt == "id name"
    assert names == ("person", "bicycle", "", "motorcycle")
    assert Labels(names).name(2) == "class 2"


def test_id_colon_name_lines():
    names, _, _ = parse_label_text("1: cat\n2: dog\n")
    assert names == ("", "cat", "dog")


def test_names_that_start_with_digits_are_not_ids_when_some_lines_are_plain():
    names, fmt, _ = parse_label_text("3d printer\nchair\n")
    assert fmt == "lines" and names == ("3d printer", "chair")


def test_pbtxt_label_map_prefers_display_name_and_keeps_gaps():
    text = """
    item { name: "/m/01g317" id: 1 display_name: "person" }
    item {
      id: 3
      name: "car"
    }
    """
    names, fmt, _ = parse_label_text(text)
    assert fmt == "pbtxt"
    assert names == ("", "person", "", "car")


def test_question_marks_are_unused_ids_that_keep_positions():
    names, _, _ = parse_label_text("???\nperson\nbicycle\n???\nairplane\n")
    labels = Labels(names, offset=1)
    assert labels.name(0) == "person"
    assert labels.name(2) == "class 2"  # an unused id in the middle of a TF OD label map
    assert labels.name(3) == "airplane"


def test_trailing_notes_after_a_blank_line_are_not_classes():
    text = "background\naeroplane\n\nand 255 is the ignore label that marks pixels excluded\n"
    names, _, notes = parse_label_text(text)
    assert names == ("background", "aeroplane")
    assert "ignored" in notes


def test_empty_label_file_is_a_clear_error(tmp_path: Path):
    p = tmp_path / "labels.txt"
    p.write_text("\n\n")
    with pytest.raises(SidecarError, match=r"labels\.txt"):
        read_label_file(p)


# --- offsets -------------------------------------------------------------------------------
def test_mobilenet_1001_outputs_1001_labels_with_background_first_has_no_offset():
    names = ("background", *(f"c{i}" for i in range(1000)))
    offset, reason = resolve_offset(names, 1001)
    assert offset == 0 and "1001" in reason
    assert Labels(names, offset).name(1) == "c0"


def test_1001_outputs_with_1000_labels_shifts_by_minus_one():
    names = tuple(f"c{i}" for i in range(1000))
    offset, _ = resolve_offset(names, 1001)
    assert offset == -1
    labels = Labels(names, offset)
    assert labels.name(1) == "c0"
    assert labels.name(0) == "class 0"


def test_background_first_with_one_fewer_class_skips_it():
    names = ("background", "cat", "dog")
    assert resolve_offset(names, 2)[0] == 1
    assert Labels(names, 1).name(0) == "cat"


def test_ssd_class_ids_are_zero_based_real_classes():
    names = ("", "person", "bicycle")  # "???" first, as in TF OD label maps
    offset, _ = resolve_offset(names, None, zero_based_real=True)
    assert offset == 1
    assert Labels(names, offset).name(0) == "person"


def test_segmentation_background_is_class_zero():
    names = ("background", "aeroplane")
    assert resolve_offset(names, None, task="segmentation")[0] == 0


def test_plain_list_matching_count_has_no_offset():
    assert resolve_offset(("a", "b"), 2) == (0, "labels map to class indices one to one")


# --- finding label files -------------------------------------------------------------------
def _model(tmp_path: Path, name: str = "det.onnx") -> Path:
    p = tmp_path / name
    p.write_bytes(b"\x08\x07")
    return p


def test_stem_named_file_wins_over_labels_txt(tmp_path: Path):
    model = _model(tmp_path)
    (tmp_path / "labels.txt").write_text("a\nb\n")
    (tmp_path / "det.txt").write_text("x\ny\n")
    found = find_label_file(model, 2)
    assert found is not None and found[0].path.name == "det.txt"


def test_labelmap_txt_is_found(tmp_path: Path):
    model = _model(tmp_path)
    (tmp_path / "labelmap.txt").write_text("???\nperson\n")
    found = find_label_file(model)
    assert found is not None and found[0].names == ("", "person")


def test_wildcard_file_is_chosen_by_class_count_in_a_shared_folder(tmp_path: Path):
    model = _model(tmp_path, "yolox_nano.onnx")
    (tmp_path / "imagenet_labels.txt").write_text("\n".join(f"n{i}" for i in range(1001)))
    (tmp_path / "coco_classes.txt").write_text("\n".join(f"c{i}" for i in range(80)))
    found = find_label_file(model, 80)
    assert found is not None and found[0].path.name == "coco_classes.txt"
    assert find_label_file(model, 7) is None  # nothing fits 7 classes: no wrong labels


def test_wildcard_file_with_unknown_count_is_chosen_by_shared_words(tmp_path: Path):
    model = _model(tmp_path, "deeplab_pascal_quant.tflite")
    (tmp_path / "imagenet_labels.txt").write_text("a\nb\n")
    (tmp_path / "pascal_voc_segmentation_labels.txt").write_text("background\ncat\n")
    found = find_label_file(model, None, "segmentation")
    assert found is not None and found[0].path.name.startswith("pascal")
    other = _model(tmp_path, "movenet.tflite")
    assert find_label_file(other, None, "pose") is None  # ambiguous: better no labels
