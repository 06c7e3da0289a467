"""Local HTTP plumbing shared by the fakes: a quiet threaded server, a JSON request handler and
a server that runs on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that does not print a traceback when a client drops a connection."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def json_handler(
    handle: Callable[[str, str, bytes, Mapping[str, str]], tuple[int, dict[str, str], bytes]],
) -> type[BaseHTTPRequestHandler]:
    """A keep-alive HTTP/1.1 request handler class that delegates to ``handle``.

    ``handle(method, path_with_query, body, headers)`` returns (status, extra headers, body);
    the body is sent as JSON unless the extra headers name another ``Content-Type``.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            status, extra, data = handle(self.command, self.path, body, headers)
            try:
                self.send_response(status)
                self.send_header("Content-Type", extra.pop("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout fault)

        # http.server dispatches on these names.
        do_GET = do_POST = do_DELETE = do_PUT = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log (the request log records everything)."""

    return Handler


class LocalJSONServer:
    """A :class:`QuietHTTPServer` on a free port of 127.0.0.1, served by a daemon thread.

    :param handle: the request callback given to :func:`json_handler`.
    """

    def __init__(
        self,
        handle: Callable[[str, str, bytes, Mapping[str, str]], tuple[int, dict[str, str], bytes]],
    ) -> None:
        self._server = QuietHTTPServer(("127.0.0.1", 0), json_handler(handle))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
