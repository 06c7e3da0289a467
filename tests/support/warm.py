"""Offline FreqTrade runs forked from a warm interpreter instead of started cold.

A cold ``python -m itb_ext.adapters.offline backtesting ...`` spends 4-5 CPU seconds importing
FreqTrade, ccxt, scikit-learn and LightGBM before it reads its config; the e2e tier starts dozens
of them. :func:`run` gives the same result as ``subprocess.run(argv, capture_output=True,
text=True)``: a separate process with the caller's arguments, working folder, environment and
standard streams, its exit status and output. The process is a fork of one server per test
worker that imported those third-party packages once and nothing of ours, so every run still
imports our modules, its strategy and its model afresh and runs FreqTrade's real command line.

Only ``python -m MODULE ...`` and ``python -c CODE ...`` (with ``sys.executable``) are forked;
anything else, a platform without ``fork``, or a run with ``ITB_EXT_TESTS_COLD_START`` set,
runs as a plain child process. :func:`start` forks the replay-exchange bots the same way
(a :class:`subprocess.Popen`-like handle); their clock shim, a ``sitecustomize`` on their path,
loads before FreqTrade's trading modules, none of which the server preloads.

Protocol (a Unix ``SOCK_SEQPACKET`` socket): the client sends one JSON message (argv, cwd, env)
with the child's stdin, stdout and stderr descriptors; the server answers the child's pid, then
its exit status when it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

#: What a cold FreqTrade run spends its start-up on (third-party only: ours load in each run).
PRELOAD = (
    "freqtrade.main",
    "freqtrade.commands",
    "freqtrade.optimize.backtesting",
    "freqtrade.optimize.hyperopt",
    "freqtrade.freqai.freqai_interface",
    "freqtrade.freqai.base_models.BaseClassifierModel",
    "freqtrade.optimize.analysis.lookahead_helpers",
    "freqtrade.optimize.analysis.recursive_helpers",
    "lightgbm",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.svm",
    "sklearn.metrics",
    "scipy.stats",
)
_MESSAGE = 1 << 20
#: Set (to anything) to start every run cold, e.g. to time the difference.
COLD = "ITB_EXT_TESTS_COLD_START"


# --------------------------------------------------------------------------- the server
def _child(request: dict[str, object], fds: list[int], inherited: Sequence[object]) -> int:
    """In the fork: become the requested ``python -m MODULE ARGS``; its exit status.

    The caller lets it end as a cold interpreter ends (threads joined, exit handlers run).
    """
    code = 1
    try:
        for thing in inherited:
            thing.close()  # type: ignore[attr-defined]
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        if request.get("new_session"):
            os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cwd = str(request["cwd"])
        env = dict(request["env"])  # type: ignore[call-overload]
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        _standard_streams(bool(env.get("PYTHONUNBUFFERED")))
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        first = cwd if argv[1] == "-m" else ""  # as python puts it first for -m and for -c
        sys.path[:] = [first, *extra, *(p for p in sys.path[1:] if p not in extra)]
        if any((Path(p) / "sitecustomize.py").is_file() for p in extra):
            _site_customize()
        try:
            if argv[1] == "-m":
                import runpy

                sys.argv = [argv[2], *argv[3:]]
                runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
            else:
                import types

                sys.argv = ["-c", *argv[3:]]
                main = types.ModuleType("__main__")
                sys.modules["__main__"] = main
                exec(compile(argv[2], "<string>", "exec"), main.__dict__)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, int | None):
                print(stop.code, file=sys.stderr)
    except BaseException:  # as a cold interpreter would: the traceback on stderr, status 1
        import traceback

        traceback.print_exc()
        code = 1
    return code


def _site_customize() -> None:
    """Import the first ``sitecustomize`` on the path, as a cold interpreter does at start.

    A preloaded module that bound ``time.sleep`` by name (``from time import sleep``) is given the
    sleep that sitecustomize put in its place, as it would have bound it in a cold start. (The
    replay bots' shim replaces ``time.sleep``; its clock, time-machine, patches the C functions of
    ``time`` and ``datetime``, which every binding shares.)
    """
    import time as time_module

    before = time_module.sleep
    sys.modules.pop("sitecustomize", None)
    importlib.import_module("sitecustomize")
    if time_module.sleep is not before:
        for module in list(sys.modules.values()):
            names = getattr(module, "__dict__", None)
            for name, value in list(names.items()) if isinstance(names, dict) else ():
                if value is before:
                    names[name] = time_module.sleep


def _standard_streams(unbuffered: bool) -> None:
    """New ``sys.stdin``/``stdout``/``stderr`` on descriptors 0-2, as a cold start makes them."""
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"
    )
    for fd, name, errors in ((1, "stdout", "strict"), (2, "stderr", "backslashreplace")):
        raw = io.FileIO(fd, "w", closefd=False)
        if unbuffered:  # PYTHONUNBUFFERED: every write reaches the file at once
            stream = io.TextIOWrapper(raw, encoding="utf-8", errors=errors, write_through=True)
        else:
            stream = io.TextIOWrapper(
                io.BufferedWriter(raw), encoding="utf-8", errors=errors, line_buffering=fd == 2
            )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def serve(path: str) -> int:
    """Preload, listen on ``path``, fork a child per request, until the parent is gone.

    :return: in a forked child, the child's exit status (the server itself returns 0).
    """
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    ours = sorted(m for m in sys.modules if m.split(".")[0] in ("itb_ext", "user_data"))
    if ours:  # a run must import our code afresh: refuse, and the runs start cold
        print(f"refused: preloading loaded {ours[:3]}", flush=True)
        return 0
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    parent = os.getppid()
    waiting: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while os.getppid() == parent:
        for _ready in selector.select(timeout=0.05):
            conn, _ = listener.accept()
            data, fds, _, _ = socket.recv_fds(conn, _MESSAGE, 3)
            pid = os.fork()
            if pid == 0:
                return _child(json.loads(data), fds, (selector, listener, conn, *waiting.values()))
            for fd in fds:
                os.close(fd)
            conn.sendall(json.dumps({"pid": pid}).encode())
            waiting[pid] = conn
        while waiting:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            conn = waiting.pop(pid, None)
            if conn is not None:
                status_message = {"status": os.waitstatus_to_exitcode(status)}
                with contextlib.suppress(OSError):  # the caller gave up on it
                    conn.sendall(json.dumps(status_message).encode())
                conn.close()
    return 0


# --------------------------------------------------------------------------- the client
class _Server:
    """This process's server, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="warm-"))
        self.path = str(self.folder / "socket")
        # no PYTHONPATH: a test's sitecustomize there would load into every later run
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "PYTHONPATH")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.warm", self.path],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ready = self.process.stdout.readline().strip() == "ready"
        atexit.register(self.close)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        Path(self.path).unlink(missing_ok=True)
        self.folder.rmdir()


_server: _Server | None = None
_lock = threading.Lock()


def _warm() -> _Server | None:
    global _server
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return None
    with _lock:
        if _server is None or (_server.ready and _server.process.poll() is not None):
            _server = _Server()
    return _server if _server.ready else None


def _drain(fd: int, into: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as stream:
        into.append(stream.read())


class WarmProcess:
    """A forked run as :class:`subprocess.Popen` shows a child: ``pid``, ``poll``, ``wait``,
    ``send_signal``, ``kill`` and ``returncode``."""

    def __init__(self, argv: Sequence[str], conn: socket.socket) -> None:
        self.args = list(argv)
        self._conn = conn
        self.pid = int(_answer(conn)["pid"])
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(BlockingIOError):  # still running
                self._finish(_answer(self._conn, socket.MSG_DONTWAIT))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                self._finish(_answer(self._conn))
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0) from None
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _finish(self, answer: dict[str, int]) -> None:
        self.returncode = int(answer["status"])
        self._conn.close()


def start(
    argv: Sequence[str],
    *,
    cwd: Path | str,
    env: dict[str, str],
    stdin: int,
    stdout: int,
    stderr: int,
    new_session: bool = False,
) -> WarmProcess | None:
    """Fork ``python -m MODULE ...`` from the warm interpreter on the given descriptors.

    :return: the running process, or None where a warm run is not possible (start it cold).
    """
    if not _forkable(argv):
        return None
    server = _warm()
    if server is None:
        return None
    request = {"argv": list(argv), "cwd": str(cwd), "env": env, "new_session": new_session}
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect(server.path)
    socket.send_fds(conn, [json.dumps(request).encode()], [stdin, stdout, stderr])
    return WarmProcess(argv, conn)


def _forkable(argv: Sequence[str]) -> bool:
    return (
        len(argv) > 2
        and argv[0] == sys.executable
        and argv[1] in ("-m", "-c")
        and not os.environ.get(COLD)
    )


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str,
    env: dict[str, str],
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(argv, cwd=cwd, env=env, timeout=timeout, capture_output=True,
    text=True)``, forked from the warm interpreter when ``argv`` is ``python -m MODULE ...`` or
    ``python -c CODE ...``.

    :raises subprocess.TimeoutExpired: after ``timeout`` seconds (the child is killed).
    """
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        process = start(argv, cwd=cwd, env=env, stdin=stdin, stdout=out_write, stderr=err_write)
    finally:
        for fd in (stdin, out_write, err_write):
            os.close(fd)
    if process is None:
        os.close(out_read)
        os.close(err_read)
        return subprocess.run(
            list(argv), cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True
        )
    outputs: tuple[list[bytes], list[bytes]] = ([], [])
    readers = [
        threading.Thread(target=_drain, args=(fd, into), daemon=True)
        for fd, into in ((out_read, outputs[0]), (err_read, outputs[1]))
    ]
    for reader in readers:
        reader.start()
    try:
        status = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    for reader in readers:
        reader.join()
    out, err = (_text(b"".join(part)) for part in outputs)
    return subprocess.CompletedProcess(list(argv), status, out, err)


def _answer(conn: socket.socket, flags: int = 0) -> dict[str, int]:
    message = conn.recv(_MESSAGE, flags)
    if not message:
        raise RuntimeError("the warm interpreter ended before the run did")
    answer: dict[str, int] = json.loads(message)
    return answer


def _text(data: bytes) -> str:
    """Decoded as ``subprocess.run(text=True)`` decodes: universal newlines."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read()


if __name__ == "__main__":
    raise SystemExit(serve(sys.argv[1]))
