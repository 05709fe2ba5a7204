"""Camera enumeration: names and USB ids, and the --source that survives re-plugging.

Windows and macOS use cv2-enumerate-cameras, installed only there; here a stand-in module
answers as it does there (OpenCV's per-backend indices, names, device paths, vendor and
product ids).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import cv2
import pytest

from edgeui.commands import sources as sources_command
from edgeui.engine.sources import SourceUnavailable, devices
from edgeui.engine.sources.camera import CameraSource
from edgeui.engine.sources.devices import (
    find_camera,
    list_cameras,
    list_linux_cameras,
    with_stable_sources,
)

_C920_PATH = r"\\?\usb#vid_046d&pid_082d&mi_00#7&2b5c1a3&0&0000#{e5323777-f976}\global"


def _entry(index: int, name: str, path: str | None = None, vid: int | None = None,
           pid: int | None = None) -> Any:
    return types.SimpleNamespace(index=index, name=name, path=path, vid=vid, pid=pid)


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """sys.platform is win32 and the library lists what ``seen["cameras"]`` holds; opening
    a camera to find it fails the test."""
    seen: dict[str, Any] = {"apis": [], "cameras": []}

    def enumerate_cameras(api: int = 0) -> list[Any]:
        seen["apis"].append(api)
        return list(seen["cameras"])

    module = types.ModuleType("cv2_enumerate_cameras")
    module.enumerate_cameras = enumerate_cameras  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cv2_enumerate_cameras", module)
    monkeypatch.setattr(sys, "platform", "win32")

    def no_probing(*_args: Any, **_kwargs: Any) -> list[Any]:
        raise AssertionError("a camera was opened to find it")

    monkeypatch.setattr(devices, "probe_cameras", no_probing)
    return seen


def test_windows_lists_cameras_by_name_from_the_capture_backend_without_opening_any(
    windows: dict[str, Any],
) -> None:
    windows["cameras"] = [
        _entry(0, "Integrated Webcam", r"\\?\usb#vid_0c45&pid_6a1b", 0x0C45, 0x6A1B),
        _entry(1, "HD Pro Webcam C920", _C920_PATH, 0x046D, 0x082D),
    ]
    cams = list_cameras()
    assert windows["apis"] == [cv2.CAP_MSMF]  # the backend CameraSource opens with
    assert [(c.name, c.index, c.path) for c in cams] == [
        ("Integrated Webcam", 0, "0"), ("HD Pro Webcam C920", 1, "1")]
    # Stable: the name follows the camera to another USB port; the index does not.
    assert [c.source for c in cams] == ["camera:Integrated Webcam", "camera:HD Pro Webcam C920"]
    assert cams[1].usb_id == "046d:082d"
    assert cams[1].device_id == _C920_PATH
    assert find_camera("046D:082D", cams) is cams[1]
    assert find_camera("c920", cams) is cams[1]
    assert find_camera(_C920_PATH.upper(), cams) is cams[1]


def test_twin_cameras_get_their_usb_id_or_else_their_index(windows: dict[str, Any]) -> None:
    windows["cameras"] = [
        _entry(0, "USB Camera", None, 0x1BCF, 0x2284),
        _entry(1, "USB Camera", None, 0x32E4, 0x9230),
        _entry(2, "Game Capture", None, 0x0FD9, 0x0066),
        _entry(3, "Game Capture", None, 0x0FD9, 0x0066),
        _entry(4, "", None),
    ]
    cams = list_cameras()
    assert [c.source for c in cams] == [
        "camera:1bcf:2284", "camera:32e4:9230", "2", "3", "4"]  # 4: no name to find it by
    assert cams[4].name == "Camera 4"  # shown, never offered as camera:Camera 4


def test_camera_name_source_opens_the_enumerated_index(windows: dict[str, Any]) -> None:
    windows["cameras"] = [_entry(0, "OBS Virtual Camera"),
                          _entry(1, "HD Pro Webcam C920", _C920_PATH, 0x046D, 0x082D)]
    assert CameraSource("camera:HD Pro Webcam C920")._target() == 1
    assert CameraSource("camera:046d:082d")._target() == 1
    windows["cameras"] = windows["cameras"][:1]  # unplugged: the open is retried later
    with pytest.raises(SourceUnavailable, match="no camera with this name"):
        CameraSource("camera:HD Pro Webcam C920")._target()


@pytest.mark.parametrize("failure", ["missing", "raises"])
def test_without_the_library_cameras_are_probed_only_when_asked(
    windows: dict[str, Any], monkeypatch: pytest.MonkeyPatch, failure: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if failure == "missing":  # e.g. pyobjc absent on a macOS install
        monkeypatch.setitem(sys.modules, "cv2_enumerate_cameras", None)
    else:
        def broken(api: int = 0) -> list[Any]:
            raise OSError("CoInitializeEx failed")

        monkeypatch.setattr(sys.modules["cv2_enumerate_cameras"], "enumerate_cameras", broken)
    probed = [devices.CameraInfo(name="Camera 0", path="0", index=0, name_given=False)]
    monkeypatch.setattr(devices, "probe_cameras", lambda *a, **k: probed)
    assert list_cameras(probe=False) == []
    # A probed camera has no name: its index is what opens it again.
    assert [c.source for c in list_cameras(probe=True)] == ["0"]
    if failure == "raises":
        assert "CoInitializeEx failed" in caplog.text


def test_sources_command_names_index_and_usb_id(
    windows: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    windows["cameras"] = [_entry(0, "HD Pro Webcam C920", _C920_PATH, 0x046D, 0x082D)]
    assert sources_command.main(argparse.Namespace(json=False, no_probe=True)) == 0
    out = capsys.readouterr().out
    assert "--source camera:HD Pro Webcam C920  (index 0, USB 046d:082d)" in out
    assert sources_command.main(argparse.Namespace(json=True, no_probe=True)) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["source"] == "camera:HD Pro Webcam C920"
    assert entry["usb_id"] == "046d:082d" and entry["device_id"] == _C920_PATH


def test_linux_reads_usb_ids_from_sysfs_and_suggests_names_for_cameras_without_by_id(
    tmp_path: Path,
) -> None:
    sys_root, by_id, dev, usb = (tmp_path / d for d in ("sys", "by-id", "dev", "usb"))
    for d in (sys_root, by_id, dev):
        d.mkdir()
    interface = usb / "1-1" / "1-1:1.0"  # the device link leads to the USB interface
    interface.mkdir(parents=True)
    (usb / "1-1" / "idVendor").write_text("04F2\n")
    (usb / "1-1" / "idProduct").write_text("b6d9\n")
    for n, name in ((0, "HD Pro Webcam C920"), (2, "Integrated Camera"), (4, "unicam")):
        (sys_root / f"video{n}").mkdir()
        (sys_root / f"video{n}" / "name").write_text(name + "\n")
        (dev / f"video{n}").touch()
    (sys_root / "video2" / "device").symlink_to(interface)
    (by_id / "usb-046d_HD_Pro_Webcam_C920_ABC123-video-index0").symlink_to(dev / "video0")
    cams = with_stable_sources(list_linux_cameras(sys_root, by_id, dev, query=False))
    assert [c.usb_id for c in cams] == [None, "04f2:b6d9", None]  # unicam: a CSI camera
    assert [c.source for c in cams] == [
        "camera:usb-046d_HD_Pro_Webcam_C920_ABC123-video-index0",  # by-id carries the serial
        "camera:Integrated Camera", "camera:unicam"]  # not /dev/video2: that follows plug order
    assert find_camera("04f2:b6d9", cams) is cams[1]


class FakeV4L2Driver:
    """fcntl.ioctl stand-in for a UVC camera: QUERYCAP, ENUM_FMT and ENUM_FRAMESIZES."""

    formats: ClassVar[dict[str, list[tuple[int, int]] | tuple[int, int, int, int]]] = {
        "MJPG": [(640, 480), (1920, 1080), (1280, 720), (1280, 720)],
        "YUYV": [(640, 480), (1280, 720)],
        "GREY": (160, 1280, 120, 960),  # a stepwise range (some industrial cameras)
    }

    def __call__(self, fd: int, request: int, buf: bytearray) -> None:
        names = list(self.formats)
        if request == devices._VIDIOC_QUERYCAP:
            struct.pack_into("<II", buf, 84, devices._V4L2_CAP_VIDEO_CAPTURE, 0)
        elif request == devices._VIDIOC_ENUM_FMT:
            (index,) = struct.unpack_from("<I", buf, 0)
            if index >= len(names):
                raise OSError(22, "EINVAL")
            struct.pack_into("<4s", buf, 44, names[index].encode())
        elif request == devices._VIDIOC_ENUM_FRAMESIZES:
            index, code = struct.unpack_from("<II", buf, 0)
            sizes = self.formats[code.to_bytes(4, "little").decode()]
            if isinstance(sizes, tuple):
                if index > 0:
                    raise OSError(22, "EINVAL")
                min_w, max_w, min_h, max_h = sizes
                struct.pack_into("<I6I", buf, 8, 3, min_w, max_w, 16, min_h, max_h, 8)
            elif index < len(sizes):
                struct.pack_into("<III", buf, 8, devices._FRMSIZE_TYPE_DISCRETE, *sizes[index])
            else:
                raise OSError(22, "EINVAL")
        else:
            raise OSError(25, "ENOTTY")


def test_linux_lists_each_formats_frame_sizes_for_the_camera_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    fcntl = pytest.importorskip("fcntl")
    sys_root, dev = tmp_path / "sys", tmp_path / "dev"
    (sys_root / "video0").mkdir(parents=True)
    (sys_root / "video0" / "name").write_text("HD Pro Webcam C920\n")
    dev.mkdir()
    (dev / "video0").touch()
    monkeypatch.setattr(fcntl, "ioctl", FakeV4L2Driver())
    (cam,) = list_linux_cameras(sys_root, tmp_path / "no-by-id", dev)
    assert cam.formats == ("MJPG", "YUYV", "GREY")
    assert cam.sizes == {"MJPG": ("1920x1080", "1280x720", "640x480"),  # largest first, once
                         "YUYV": ("1280x720", "640x480"),
                         "GREY": ("160x120-1280x960",)}
    assert cam.to_dict()["sizes"]["YUYV"] == ["1280x720", "640x480"]
    monkeypatch.setattr(devices, "list_cameras", lambda probe=True: [cam])
    assert sources_command.main(argparse.Namespace(json=False, no_probe=False)) == 0
    assert capsys.readouterr().out.splitlines()[2:] == [
        "  MJPG  1920x1080 1280x720 640x480", "  YUYV  1280x720 640x480",
        "  GREY  160x120-1280x960"]


class _MacDevice:
    def __init__(self, unique_id: str, name: str, model: str) -> None:
        self._id, self._name, self._model = unique_id, name, model

    def uniqueID(self) -> str:
        return self._id

    def localizedName(self) -> str:
        return self._name

    def modelID(self) -> str:
        return self._model


def test_macos_lists_cameras_in_the_order_opencv_indexes_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV's AVFoundation backend opens devices[index] of the video devices followed by the
    muxed ones, sorted by uniqueID: the built-in camera, listed first by macOS, is index 1
    next to a USB webcam whose id sorts first."""
    video = [_MacDevice("6C707041-05AC-0010-0001-000000000001", "FaceTime HD Camera",
                        "FaceTime HD Camera"),
             _MacDevice("0x11400001d6c0103", "HD Pro Webcam C920",
                        "UVC Camera VendorID_1133 ProductID_2093")]
    muxed = [_MacDevice("AppleDV-0001", "DV Camcorder", "DV")]
    av = types.ModuleType("AVFoundation")
    av.AVMediaTypeVideo, av.AVMediaTypeMuxed = "vide", "muxx"  # type: ignore[attr-defined]
    av.AVCaptureDevice = types.SimpleNamespace(  # type: ignore[attr-defined]
        devicesWithMediaType_=lambda kind: video if kind == "vide" else muxed)
    monkeypatch.setitem(sys.modules, "AVFoundation", av)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(devices, "probe_cameras", lambda *a, **k: pytest.fail("probed"))
    cams = list_cameras()
    assert [(c.index, c.name) for c in cams] == [
        (0, "HD Pro Webcam C920"), (1, "FaceTime HD Camera"), (2, "DV Camcorder")]
    assert cams[0].usb_id == "046d:082d" and cams[1].usb_id is None
    assert cams[1].device_id == "6C707041-05AC-0010-0001-000000000001"
    assert CameraSource("camera:FaceTime HD Camera")._target() == 1


def test_ids_and_paths_match_only_whole_names_also_in_part(windows: dict[str, Any]) -> None:
    windows["cameras"] = [_entry(0, "HD Pro Webcam C920", _C920_PATH, 0x046D, 0x082D)]
    cams = list_cameras()
    assert find_camera("usb", cams) is None  # "USB Camera" unplugged: no other camera instead
    assert find_camera("046d", cams) is None
    assert find_camera("webcam", cams) is cams[0]


def test_windows_listing_none_looks_by_opening_indices_when_asked(
        windows: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The library returns an empty list when COM fails: that may not mean "no cameras"."""
    probed = [devices.CameraInfo(name="Camera 0", path="0", index=0, name_given=False)]
    monkeypatch.setattr(devices, "probe_cameras", lambda *a, **k: probed)
    assert list_cameras(probe=False) == []
    assert [c.source for c in list_cameras(probe=True)] == ["0"]
