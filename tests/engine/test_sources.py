"""Frame sources against real files, folders, a loopback MJPEG server and a fake sysfs."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.engine.sources import SourceEnded, SourceUnavailable, open_source, source_kind
from edgeui.engine.sources.base import redact
from edgeui.engine.sources.camera import CameraSource
from edgeui.engine.sources.devices import CameraInfo, find_camera, list_cameras, list_linux_cameras
from edgeui.engine.sources.images import ImageSource
from edgeui.engine.sources.stream import StreamSource
from edgeui.engine.sources.synthetic import SyntheticSource, parse_synthetic
from edgeui.engine.sources.video import VideoSource
from edgeui.errors import SourceError
from tests.helpers.mjpeg_server import MJPEGServer


def write_avi(path: Path, n: int = 8, size: tuple[int, int] = (64, 48)) -> Path:
    """An MJPG AVI whose frame i is filled with grey level 20*i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, size)
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return path


def next_frame(source, tries: int = 10_000):
    """The next frame of an open paced source (its pacer says None until one is due)."""
    for _ in range(tries):
        frame = source.read()
        if frame is not None:
            return frame
    raise AssertionError("no frame came")


def read_all(source, limit: int = 1000) -> list:
    frames = []
    source.open()
    try:
        while len(frames) < limit:
            try:
                frame = source.read()
            except SourceEnded:
                break
            if frame is not None:
                frames.append(frame)
    finally:
        source.close()
    return frames


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("0", "camera"), ("/dev/video2", "camera"), ("camera:Logitech C920", "camera"),
        ("synthetic", "synthetic"), ("synthetic:320x240@5", "synthetic"),
        ("rtsp://user:pw@10.0.0.2/live", "stream"), ("http://127.0.0.1:8080/x.mjpg", "stream"),
        ("https://example.org/a.m3u8", "stream"), ("clip.mp4", "video"),
        ("photo.JPG", "images"), ("shots/*.png", "images"),
    ],
)  # fmt: skip
def test_source_kind_picks_the_right_registry_entry(uri: str, kind: str) -> None:
    assert source_kind(uri) == kind


@pytest.mark.parametrize("uri", ["", "ftp://host/file.mp4", "nope:thing"])
def test_bad_uris_are_one_clear_error(uri: str) -> None:
    with pytest.raises(SourceError):
        open_source(uri)


def test_missing_local_files_fail_at_once(tmp_path: Path) -> None:
    for uri in (tmp_path / "gone.mp4", tmp_path / "gone.png", tmp_path / "nodir" / "*.png"):
        with pytest.raises(SourceError) as info:
            open_source(str(uri))
        assert not isinstance(info.value, SourceUnavailable)  # permanent: no retrying
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(str(empty))


def test_unknown_option_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="unsupported option"):
        open_source("synthetic", colour="red")


def test_video_file_reads_every_frame_in_order_then_ends(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "clip.avi", n=8)
    src = open_source(str(path), realtime=False)
    assert isinstance(src, VideoSource) and not src.live
    frames = read_all(src)
    assert len(frames) == 8
    assert [f.frame_id for f in frames] == list(range(8))
    levels = [int(f.image.mean()) for f in frames]
    assert levels == sorted(levels) and abs(levels[-1] - 140) <= 4
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert all(f.source == str(path) for f in frames)
    assert frames[0].timestamp <= frames[-1].timestamp


def test_video_loop_restarts_and_ids_keep_increasing(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "clip.avi", n=5)
    frames = read_all(VideoSource(str(path), loop=True, realtime=False), limit=12)
    assert len(frames) == 12
    ids = [f.frame_id for f in frames]
    assert ids == sorted(set(ids))
    assert int(frames[5].image.mean()) < 5  # back to the first (black) frame


def test_video_realtime_is_live_and_paced(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "clip.avi", n=3)
    src = VideoSource(str(path))
    assert src.live
    src.open()
    try:
        assert src.fps == pytest.approx(25.0)
    finally:
        src.close()


def test_garbage_video_file_is_a_permanent_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(os.urandom(4096))
    src = open_source(str(path))
    with pytest.raises(SourceError) as info:
        read_all(src)
    assert not isinstance(info.value, SourceUnavailable)
    assert "broken.mp4" in str(info.value)


def make_pngs(folder: Path, n: int = 3) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:02d}.png"
        cv2.imwrite(str(p), np.full((20, 30), 50 * (i + 1), np.uint8))  # grey PNGs
        paths.append(p)
    return paths


def test_image_folder_plays_in_name_order_as_bgr(tmp_path: Path) -> None:
    make_pngs(tmp_path / "shots")
    (tmp_path / "shots" / "notes.txt").write_text("not an image")
    frames = read_all(open_source(str(tmp_path / "shots")))
    assert [int(f.image[0, 0, 0]) for f in frames] == [50, 100, 150]
    assert all(f.image.shape == (20, 30, 3) for f in frames)


def test_image_glob_loop_and_unreadable_files_skipped(tmp_path: Path) -> None:
    make_pngs(tmp_path, n=2)
    (tmp_path / "img_01b.png").write_bytes(b"not a png")
    src = open_source(str(tmp_path / "img_*.png"), loop=True)
    frames = read_all(src, limit=5)
    assert [int(f.image[0, 0, 0]) for f in frames] == [50, 100, 50, 100, 50]


def test_folder_of_broken_images_fails_at_open(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"junk")
    with pytest.raises(SourceError, match="can be decoded"):
        open_source(str(tmp_path)).open()


def test_single_image_gives_one_frame_or_loops(tmp_path: Path) -> None:
    (p,) = make_pngs(tmp_path, n=1)
    assert len(read_all(ImageSource(str(p)))) == 1
    assert len(read_all(ImageSource(str(p), loop=True), limit=4)) == 4


def test_synthetic_pattern_moves_and_parses_size() -> None:
    assert parse_synthetic("synthetic:320x240@15") == (320, 240, 15.0)
    assert parse_synthetic("synthetic") == (640, 480, 30.0)
    with pytest.raises(SourceError):
        parse_synthetic("synthetic:huge")
    src = SyntheticSource("synthetic:160x120@0")
    assert not src.live
    frames = read_all(src, limit=3)
    assert frames[0].image.shape == (120, 160, 3)
    assert SyntheticSource("synthetic:160x120@30").live


def test_credentials_never_leave_the_stream_uri() -> None:
    assert redact("rtsp://admin:secret@10.0.0.5:554/h264") == "rtsp://***@10.0.0.5:554/h264"
    src = open_source("rtsp://admin:secret@10.0.0.5/h264")
    assert "secret" not in src.uri
    src = open_source("rtsp://admin:se@cr et@10.0.0.5/h264")  # an '@' and a space in it
    assert src.uri == "rtsp://***@10.0.0.5/h264"


def test_http_mjpeg_stream_reads_frames() -> None:
    server = MJPEGServer().start()
    try:
        src = StreamSource(server.url, open_timeout=3, read_timeout=2)
        frames = read_all(src, limit=4)
        assert len(frames) == 4
        assert frames[0].image.shape == (120, 160, 3)
        assert [f.frame_id for f in frames] == [0, 1, 2, 3]
    finally:
        server.stop()


def test_stream_that_refuses_connection_is_transient() -> None:
    server = MJPEGServer().start()
    url = server.url
    server.stop()  # the port is now closed
    src = StreamSource(url, open_timeout=1, read_timeout=1)
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        src.open()


def test_stalled_stream_read_times_out() -> None:
    server = MJPEGServer()
    server.stall = True
    server.start()
    try:
        src = StreamSource(server.url, open_timeout=3, read_timeout=0.5)
        src.open()
        try:
            with pytest.raises(SourceUnavailable, match="stopped sending"):
                for _ in range(50):
                    src.read()
        finally:
            src.close()
    finally:
        server.stop()


def test_camera_not_connected_is_transient() -> None:
    with pytest.raises(SourceUnavailable, match="no camera"):
        CameraSource("camera:no-such-camera-serial-123").open()
    if os.name == "posix" and not Path("/dev/video97").exists():
        with pytest.raises(SourceUnavailable):
            CameraSource("/dev/video97").open()


def test_fake_sysfs_lists_cameras_with_stable_names(tmp_path: Path) -> None:
    sys_root, by_id, dev = tmp_path / "sys", tmp_path / "by-id", tmp_path / "dev"
    for d in (sys_root, by_id, dev):
        d.mkdir()
    for n, name in ((0, "HD Pro Webcam C920"), (2, "Integrated Camera: Integrated C")):
        (sys_root / f"video{n}").mkdir()
        (sys_root / f"video{n}" / "name").write_text(name + "\n")
        (dev / f"video{n}").touch()
    (by_id / "usb-046d_HD_Pro_Webcam_C920_ABC123-video-index0").symlink_to(dev / "video0")
    cams = list_linux_cameras(sys_root, by_id, dev, query=False)
    assert [c.name for c in cams] == ["HD Pro Webcam C920", "Integrated Camera: Integrated C"]
    assert cams[0].source == "camera:usb-046d_HD_Pro_Webcam_C920_ABC123-video-index0"
    assert cams[1].source == str(dev / "video2")
    assert find_camera("abc123", cams) is cams[0]  # by serial, case-insensitive
    assert find_camera("integrated camera: integrated c", cams) is cams[1]
    assert find_camera("nikon", cams) is None
    assert set(cams[0].to_dict()) >= {"name", "path", "index", "formats", "source"}


def test_listing_cameras_works_where_there_are_none() -> None:
    cams = list_cameras(probe=False)
    assert isinstance(cams, list)
    assert all(isinstance(c, CameraInfo) for c in cams)


class _Clock:
    """A hand-driven monotonic clock for the held slideshow (tests never sleep)."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


def test_held_slideshow_resends_each_image_for_hold_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edgeui.engine.sources.images as images

    make_pngs(tmp_path, n=2)
    clock = _Clock()
    monkeypatch.setattr(images, "time", clock)
    src = ImageSource(str(tmp_path), fps=10_000, loop=True, hold=4.0)
    assert src.live and src.hold == 4.0
    src.open()
    seen = []
    for t in (0.0, 1.0, 3.9, 4.0, 7.9, 8.0):
        clock.now = 100.0 + t
        frame = None
        while frame is None:  # the pacer may ask for a later read
            frame = src.read()
        seen.append(int(frame.image[0, 0, 0]))
    src.close()
    # The first image for 4 s, the second for 4 s, then round again.
    assert seen == [50, 50, 50, 100, 100, 50]


def test_held_frames_are_copies_and_motion_pans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edgeui.engine.sources.images as images

    (p,) = make_pngs(tmp_path, n=1)
    clock = _Clock()
    monkeypatch.setattr(images, "time", clock)
    still = ImageSource(str(p), fps=10_000, hold=1.0)
    still.open()
    a = next_frame(still)
    a.image[:] = 0  # someone draws on a frame...
    b = next_frame(still)
    assert int(b.image[0, 0, 0]) == 50  # ...the next one is clean
    still.close()

    ramp = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    cv2.imwrite(str(tmp_path / "ramp.png"), cv2.merge([ramp, ramp, ramp]))
    moving = ImageSource(str(tmp_path / "ramp.png"), fps=10_000, hold=4.0, motion=True)
    moving.open()
    first = next_frame(moving).image
    clock.now += 3.0
    later = next_frame(moving).image
    moving.close()
    assert first.shape == later.shape == (48, 64, 3)
    assert not np.array_equal(first, later)  # the view moved
    # Zooming in on a ramp makes it steeper: the visible range of values narrows.
    assert int(later[..., 0].max()) - int(later[..., 0].min()) < int(first[..., 0].max()) - int(
        first[..., 0].min()
    )


def test_hold_defaults_to_30_fps_and_rejects_nonsense(tmp_path: Path) -> None:
    make_pngs(tmp_path, n=1)
    assert ImageSource(str(tmp_path), hold=2.0).fps == 30.0
    with pytest.raises(SourceError, match="hold"):
        ImageSource(str(tmp_path), hold=0)
    # Without hold nothing changes: one frame per image, on demand.
    plain = ImageSource(str(tmp_path))
    assert plain.fps is None and not plain.live


def test_a_paced_source_never_hands_out_two_frames_back_to_back() -> None:
    """After opening (or a stall) the next frame is a whole period away, not due at once."""
    from edgeui.engine.sources.base import Pacer

    pacer = Pacer(20.0, max_wait=0.0)  # 50 ms a frame; due() never sleeps here
    assert pacer.due()
    assert not pacer.due()  # was True: two frames within microseconds
    pacer._next -= 10.0  # a stall of 10 s: no backlog of 200 frames to catch up
    assert pacer.due() and not pacer.due()
