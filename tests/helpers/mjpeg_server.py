"""A loopback HTTP MJPEG server for stream tests: start, kill mid-stream, restart, stall."""

from __future__ import annotations

import http.server
import socketserver
import threading
import time

import cv2
import numpy as np


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class MJPEGServer:
    """Serves multipart/x-mixed-replace JPEG frames on 127.0.0.1.

    ``stall=True``: after ``frames_before_stall`` frames the connection stays open but
    nothing more is sent (a hung camera). ``stop()`` closes every connection, like a crash.
    """

    def __init__(self, fps: float = 30.0, size: tuple[int, int] = (160, 120)) -> None:
        self.fps = fps
        self.size = size
        self.stall = False
        self.frames_before_stall = 3
        self.port = 0
        self.served = 0
        self._alive = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> MJPEGServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                w, h = owner.size
                image = np.zeros((h, w, 3), np.uint8)
                sent = 0
                try:
                    while owner._alive.is_set():
                        if owner.stall and sent >= owner.frames_before_stall:
                            owner._alive.wait(0.05)
                            continue
                        image[:] = (owner.served * 7) % 256
                        _ok, buf = cv2.imencode(".jpg", image)
                        data = buf.tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(data) + data + b"\r\n")
                        self.wfile.flush()
                        sent += 1
                        owner.served += 1
                        time.sleep(1.0 / owner.fps)  # the camera's frame clock
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._alive.set()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Kill: stop accepting and drop every open connection."""
        self._alive.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
