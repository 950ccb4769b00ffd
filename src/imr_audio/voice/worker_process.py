"""Start a speech worker process and talk to it: the launching code both engines share.

A worker module (:mod:`imr_audio.voice.pyttsx3_worker`, :mod:`imr_audio.voice.piper_worker`)
has a ``main()`` that takes its connection from the command line and a ``serve(conn)`` that
answers requests until it reads ``None`` or the connection closes. Each request is a tuple
answered by ``("ok", payload)`` or ``("error", text)``; a worker may follow an answer with raw
bytes (:meth:`WorkerProcess.receive_bytes`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["WorkerError", "WorkerProcess"]

_STOP_WAIT_S = 2.0


class WorkerError(RuntimeError):
    """The worker answered a request with an error; the message is the worker's text."""


class WorkerProcess:
    """One worker process and the connection to it.

    On POSIX the worker is a fresh interpreter running the worker module's ``main()`` over a
    socket pair (what multiprocessing's spawn does, without re-running the parent's
    ``__main__``, which for the command line imported the whole package again: 1.2 s per
    worker). Elsewhere multiprocessing's spawn starts the module's ``serve``. Never forked:
    forking after a speech engine started hangs. The worker's standard output is discarded
    (pyttsx3 prints the file it saved; the command line's own output must stay clean).
    """

    def __init__(self, module: str, *, quiet: bool = False) -> None:
        """Start a worker running ``module``; ``quiet`` discards its standard error too.

        Raises OSError when the process cannot be started.
        """
        self._process: subprocess.Popen[bytes] | multiprocessing.process.BaseProcess
        if os.name == "posix":
            parent, child = socket.socketpair()
            with child:
                try:
                    self._process = subprocess.Popen(
                        [sys.executable, "-c", f"from {module} import main; main()",
                         str(child.fileno()), json.dumps(sys.path)],
                        pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL if quiet else None,
                    )
                except BaseException:
                    parent.close()
                    raise
            self._conn = Connection(parent.detach())
        else:
            serve = importlib.import_module(module).serve
            ctx = multiprocessing.get_context("spawn")
            self._conn, child_conn = ctx.Pipe()
            self._process = ctx.Process(target=serve, args=(child_conn,), daemon=True)
            self._process.start()
            child_conn.close()

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return int(self._process.pid or 0)  # both kinds of process have one once started

    def call(self, message: tuple[Any, ...], timeout_s: float) -> Any:
        """Send ``message`` and return the answer's payload.

        Raises :class:`WorkerError` when the worker answers with an error, TimeoutError when it
        does not answer within ``timeout_s``, EOFError or OSError when it has gone.
        """
        self._conn.send(message)
        if not self._conn.poll(timeout_s):
            raise TimeoutError(f"no answer within {timeout_s:g} s")
        status, payload = self._conn.recv()
        if status != "ok":
            raise WorkerError(str(payload))
        return payload

    def receive_bytes(self, timeout_s: float) -> bytes:
        """The raw bytes the worker sends after an answer; errors as :meth:`call`'s."""
        if not self._conn.poll(timeout_s):
            raise TimeoutError(f"no answer within {timeout_s:g} s")
        return self._conn.recv_bytes()

    def _ended(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the process to end (and reap it); whether it has."""
        if isinstance(self._process, subprocess.Popen):
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        self._process.join(timeout=timeout_s)
        return not self._process.is_alive()

    def exit_status(self) -> str:
        """How the process ended, e.g. ``killed by SIGKILL`` or ``exit code 1``."""
        if isinstance(self._process, subprocess.Popen):
            code = self._process.poll()
        else:
            code = self._process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def stop(self) -> None:
        """End the process, politely first, then killed; wait for it, so no zombie is left."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        if not self._ended(_STOP_WAIT_S):
            self._process.kill()
            self._ended(_STOP_WAIT_S)
        self._conn.close()
