"""Camera enumeration without opening a window: ``edgeui sources`` and ``camera:<name>``.

Linux: /sys/class/video4linux/*/name, USB ids and the /dev/v4l/by-id symlinks (which
carry the USB serial and survive re-plugging into another port), plus the pixel formats
the driver lists (VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES; no streaming). Windows:
cv2-enumerate-cameras lists Media Foundation's cameras (names, USB ids, device paths) in
OpenCV's index order. macOS: AVFoundation's video and muxed devices sorted by uniqueID, the
list OpenCV's backend indexes (4.7 and later), through pyobjc. Neither opens a camera; only
where they cannot load (or Windows lists none) are a few indices opened, and only when
asked. Everything platform-specific is imported inside functions, so this module imports
anywhere.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import struct
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

SYS_VIDEO4LINUX = Path("/sys/class/video4linux")
DEV_BY_ID = Path("/dev/v4l/by-id")

_V4L2_CAP_VIDEO_CAPTURE = 0x00000001
_V4L2_CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
_V4L2_CAP_DEVICE_CAPS = 0x80000000
_VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
_VIDIOC_ENUM_FMT = 0xC0405602  # _IOWR('V', 2, struct v4l2_fmtdesc), 64 bytes
_VIDIOC_ENUM_FRAMESIZES = 0xC02C564A  # _IOWR('V', 74, struct v4l2_frmsizeenum), 44 bytes
_FRMSIZE_TYPE_DISCRETE = 1
_MAX_SIZES = 64  # per format; real cameras list a dozen or two
_BUF_TYPE_VIDEO_CAPTURE = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraInfo:
    """One camera: what to show a user and what to pass as ``--source``."""

    name: str
    path: str  # /dev/videoN on Linux, the index as text elsewhere
    index: int
    stable_id: str | None = None  # /dev/v4l/by-id/... link: survives re-plugging
    formats: tuple[str, ...] = ()  # FOURCCs the driver lists, where the platform tells
    # Frame sizes per FOURCC ("1280x720", or "160x120-1920x1080" for a range), where told.
    sizes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    usb_id: str | None = None  # "046d:085c" (vendor:product), where the platform tells
    device_id: str | None = None  # Windows: device instance path; macOS: AVFoundation uniqueID
    # ``camera:<name>`` or ``camera:<usb id>`` when that finds this camera and no other
    # (set by the listing, which sees the other cameras).
    stable_source: str | None = None
    # False for a stand-in name ("Camera 2") where the platform gave none: never a source.
    name_given: bool = True

    @property
    def source(self) -> str:
        """The most stable ``--source`` value for this camera: the by-id link (it carries the
        serial), else a name or USB id no other camera has, else the path or index."""
        if self.stable_id:
            return f"camera:{Path(self.stable_id).name}"
        return self.stable_source or self.path

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["formats"] = list(self.formats)
        out["sizes"] = {fourcc: list(sizes) for fourcc, sizes in self.sizes.items()}
        out["source"] = self.source
        return out


def backend() -> int:
    """The OpenCV capture backend for cameras on this platform."""
    import cv2

    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    if sys.platform == "win32":
        return cv2.CAP_MSMF
    if sys.platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _v4l2_sizes(fd: int, ioctl: Any, pixel_format: int) -> tuple[str, ...]:
    """The frame sizes the driver lists for one pixel format, largest first."""
    found: list[tuple[int, int]] = []
    for i in range(_MAX_SIZES):
        desc = bytearray(44)
        struct.pack_into("<II", desc, 0, i, pixel_format)
        try:
            ioctl(fd, _VIDIOC_ENUM_FRAMESIZES, desc)
        except OSError:
            break
        (kind,) = struct.unpack_from("<I", desc, 8)
        if kind != _FRMSIZE_TYPE_DISCRETE:  # continuous or stepwise: one range, index 0 only
            min_w, max_w, _, min_h, max_h, _ = struct.unpack_from("<6I", desc, 12)
            return (f"{min_w}x{min_h}-{max_w}x{max_h}",)
        found.append(struct.unpack_from("<II", desc, 12))
    found.sort(key=lambda wh: (-wh[0] * wh[1], -wh[0]))
    return tuple(f"{w}x{h}" for w, h in dict.fromkeys(found))


def _v4l2_query(dev: Path) -> tuple[bool, tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(is a capture node, pixel formats, frame sizes per format) from the driver;
    (True, (), {}) when it cannot tell."""
    try:
        import fcntl
    except ImportError:
        return True, (), {}
    try:
        fd = os.open(str(dev), os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return True, (), {}
    try:
        buf = bytearray(104)
        fcntl.ioctl(fd, _VIDIOC_QUERYCAP, buf)
        caps, device_caps = struct.unpack_from("<II", buf, 84)
        if caps & _V4L2_CAP_DEVICE_CAPS:
            caps = device_caps
        capture = bool(caps & (_V4L2_CAP_VIDEO_CAPTURE | _V4L2_CAP_VIDEO_CAPTURE_MPLANE))
        formats: list[str] = []
        sizes: dict[str, tuple[str, ...]] = {}
        for i in range(64):
            desc = bytearray(64)
            struct.pack_into("<II", desc, 0, i, _BUF_TYPE_VIDEO_CAPTURE)
            try:
                fcntl.ioctl(fd, _VIDIOC_ENUM_FMT, desc)
            except OSError:
                break
            (fourcc,) = struct.unpack_from("<I", desc, 44)
            name = fourcc_name(fourcc) or f"0x{fourcc:08x}"
            formats.append(name)
            listed = _v4l2_sizes(fd, fcntl.ioctl, fourcc)
            if listed:
                sizes[name] = listed
        return capture, tuple(formats), sizes
    except OSError:
        return True, (), {}
    finally:
        os.close(fd)


def list_linux_cameras(sys_root: Path = SYS_VIDEO4LINUX, by_id: Path = DEV_BY_ID,
                       dev_root: Path = Path("/dev"), query: bool = True) -> list[CameraInfo]:
    """Video capture nodes from sysfs, with their by-id names and formats."""
    if not sys_root.is_dir():
        return []
    links: dict[str, str] = {}
    if by_id.is_dir():
        for link in sorted(by_id.iterdir()):
            try:
                links.setdefault(os.path.realpath(link).rsplit("/", 1)[-1], str(link))
            except OSError:
                continue
    cameras = []
    for node in sorted(sys_root.glob("video*"), key=lambda p: _node_number(p.name)):
        dev = dev_root / node.name
        capture, formats, sizes = _v4l2_query(dev) if query else (True, (), {})
        if not capture:  # metadata nodes (/dev/video1 of most UVC cameras)
            continue
        cameras.append(CameraInfo(
            name=_read_text(node / "name") or node.name,
            path=str(dev),
            index=_node_number(node.name),
            stable_id=links.get(node.name),
            formats=formats,
            sizes=sizes,
            usb_id=_linux_usb_id(node),
        ))
    return cameras


def _linux_usb_id(node: Path) -> str | None:
    """vendor:product of a USB camera: sysfs's ``device`` link leads to the USB interface,
    whose parent (the device) holds idVendor and idProduct; None for other buses (CSI)."""
    try:
        interface = Path(os.path.realpath(node / "device"))
    except OSError:
        return None
    for usb_device in (interface, interface.parent):
        vendor, product = _read_text(usb_device / "idVendor"), _read_text(usb_device / "idProduct")
        if vendor and product:
            return f"{vendor.lower()}:{product.lower()}"
    return None


def with_stable_sources(cameras: list[CameraInfo]) -> list[CameraInfo]:
    """The cameras, each with ``camera:<name>`` (else ``camera:<usb id>``) as its stable
    source where no other camera shares it: unlike an index or /dev/videoN, which follow
    the order cameras were plugged in, these survive re-plugging into another port."""
    names = Counter(c.name.lower() for c in cameras)
    usb_ids = Counter(c.usb_id for c in cameras if c.usb_id)
    out = []
    for cam in cameras:
        stable = None
        if cam.name_given and names[cam.name.lower()] == 1 and cam.name.strip() \
                and not cam.name.isdigit():  # fmt: skip
            stable = f"camera:{cam.name}"  # all digits would read as an index
        elif cam.usb_id and usb_ids[cam.usb_id] == 1:
            stable = f"camera:{cam.usb_id}"
        out.append(replace(cam, stable_source=stable))
    return out


def _usb_id(vid: Any, pid: Any) -> str | None:
    try:
        return f"{int(vid):04x}:{int(pid):04x}" if vid is not None and pid is not None else None
    except (TypeError, ValueError):
        return None


def fourcc_name(code: int) -> str:
    """A FOURCC number as drivers name it ("MJPG", "Y16"); "" when it is not text."""
    if code <= 0:
        return ""
    text = int(code).to_bytes(4, "little").decode("latin-1").strip()
    return text if text.isprintable() else ""


def _indexed_camera(index: int, name: Any, usb_id: str | None, device_id: Any) -> CameraInfo:
    """A camera opened by its backend index (Windows, macOS): a stand-in name where the
    platform gives none (never offered as ``camera:<name>``)."""
    given = str(name or "").strip()
    return CameraInfo(name=given or f"Camera {index}", path=str(index), index=index,
                      usb_id=usb_id, device_id=str(device_id) if device_id else None,
                      name_given=bool(given))


def _media_foundation_cameras() -> list[CameraInfo] | None:
    """Windows: Media Foundation's cameras from cv2-enumerate-cameras; None where it cannot
    load or fails."""
    try:
        from cv2_enumerate_cameras import enumerate_cameras
    except Exception as exc:  # not installed, or no compiled part (Windows on ARM)
        log.debug("cv2-enumerate-cameras unavailable: %s", exc)
        return None
    try:
        found = list(enumerate_cameras(backend()))
    except Exception as exc:  # a COM error
        log.warning("camera enumeration failed: %s", exc)
        return None
    return [_indexed_camera(int(cam.index), cam.name,
                            _usb_id(getattr(cam, "vid", None), getattr(cam, "pid", None)),
                            getattr(cam, "path", None))
            for cam in found]


_MAC_VID = re.compile(r"VendorID_(\d+)")
_MAC_PID = re.compile(r"ProductID_(\d+)")


def _avfoundation_cameras() -> list[CameraInfo] | None:
    """macOS: the devices OpenCV's AVFoundation backend indexes, in its order (video, then
    muxed devices, sorted by uniqueID); None where pyobjc's AVFoundation cannot load."""
    try:
        import AVFoundation
    except Exception as exc:
        log.debug("AVFoundation bindings unavailable: %s", exc)
        return None
    try:
        with contextlib.suppress(Exception):  # hot-plug news arrives through the run loop
            AVFoundation.NSRunLoop.currentRunLoop().runUntilDate_(
                AVFoundation.NSDate.dateWithTimeIntervalSinceNow_(0))
        capture_device = AVFoundation.AVCaptureDevice
        devices = list(capture_device.devicesWithMediaType_(AVFoundation.AVMediaTypeVideo))
        devices += list(capture_device.devicesWithMediaType_(AVFoundation.AVMediaTypeMuxed))
        devices.sort(key=lambda d: str(d.uniqueID()))
        cameras = []
        for index, device in enumerate(devices):
            model = str(device.modelID() or "")
            vid, pid = _MAC_VID.search(model), _MAC_PID.search(model)
            usb_id = _usb_id(vid.group(1), pid.group(1)) if vid and pid else None
            cameras.append(_indexed_camera(index, device.localizedName(), usb_id,
                                           device.uniqueID()))
        return cameras
    except Exception as exc:
        log.warning("camera enumeration failed: %s", exc)
        return None


def _node_number(name: str) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else -1


def probe_cameras(max_index: int = 4) -> list[CameraInfo]:
    """Open indices 0..max_index-1 with the platform backend (no window), then release."""
    import cv2

    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i, backend())
        try:
            if cap.isOpened():
                found.append(CameraInfo(name=f"Camera {i}", path=str(i), index=i,
                                        name_given=False))
        finally:
            cap.release()
    return found


def list_cameras(probe: bool = True) -> list[CameraInfo]:
    """The cameras on this machine (an empty list where there are none)."""
    if sys.platform.startswith("linux"):
        return with_stable_sources(list_linux_cameras())
    if sys.platform == "darwin":
        cameras = _avfoundation_cameras()
    elif sys.platform == "win32":
        cameras = _media_foundation_cameras()
        # It says nothing when COM fails: an empty list may be a failure, so look.
        cameras = cameras or None
    else:
        cameras = None
    if cameras is None:
        cameras = probe_cameras() if probe else []
    return with_stable_sources(cameras)


def find_camera(query: str, cameras: list[CameraInfo] | None = None) -> CameraInfo | None:
    """The camera whose name, by-id name, USB id, device id or path is ``query``; else whose
    name or by-id name (which holds the serial) contains it. Case-insensitive. Ids and paths
    match only whole: "usb" must not find any camera whose device path holds "usb#vid_"."""
    cams = list_cameras(probe=False) if cameras is None else cameras
    q = query.strip().lower()
    if not q:
        return None

    def keys(c: CameraInfo) -> list[str]:
        out = [c.name.lower(), c.path.lower()]
        if c.stable_id:
            out += [c.stable_id.lower(), Path(c.stable_id).name.lower()]
        out += [key.lower() for key in (c.usb_id, c.device_id) if key]
        return out

    for cam in cams:
        if q in keys(cam):
            return cam
    for cam in cams:
        words = [cam.name.lower()] + ([Path(cam.stable_id).name.lower()] if cam.stable_id else [])
        if any(q in w for w in words):
            return cam
    return None
