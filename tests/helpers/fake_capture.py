"""cv2.VideoCapture stand-ins for source tests that must not touch FFmpeg or the network."""

from __future__ import annotations


class UnopenedCapture:
    """A capture that fails to open at once, as FFmpeg does on a refused or unknown host."""

    def __init__(self, *_args: object) -> None:
        pass

    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass
