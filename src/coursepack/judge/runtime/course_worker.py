"""The worker: the only process that ever runs student code.

This file is copied, with the framework adapter beside it, into a private temporary
folder and started as ``python -s -P course_worker.py ...`` by the grader, under whatever
isolation the machine allows (private mount/network/pid namespaces, the ``nobody``
user). It imports nothing from the course package, so nothing it can read holds the
reference solutions, the hidden tests or their expected values.

Protocol. The worker imports NumPy and the framework once, prints one ``ready`` line,
then reads one JSON line per request from stdin: ``{"id": N, "dir": PATH}``. For each
request it forks a fresh child (so every call starts from a process that never saw
student code). The child reads ``PATH/request.json`` and ``PATH/inputs.npz``, runs the
adapter, and writes ``PATH/outputs.npz`` (plain arrays) or ``PATH/error.json``. The
worker answers ``{"id": N, "status": ..., "code": ...}`` when the child is gone. The
grader trusts none of this: it reads only the arrays, with ``allow_pickle=False``, and
compares them with values it computed itself.

Lifetime. Nothing student code started may outlive the grader. The grader holds the
only write end of this worker's stdin, so the end of stdin means the grader is gone
(killed, even with ``kill -9``) or is done with this worker: the worker then kills every
process it started and exits. It keeps watching stdin while a call runs, and it is a
child subreaper, so a process that student code detaches (``setsid``, a double fork)
stays its descendant and is found. The kernel's parent-death signal cannot do this job:
it is cleared when ``setpriv`` drops to ``nobody``, and it would kill the worker before
the worker could kill what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import sys
import traceback

PROTOCOL_FD_ENV = "COURSE_WORKER_PROTOCOL"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args()

    # Keep the protocol on private copies of stdin/stdout; the children get /dev/null and
    # log files instead, so nothing student code prints can be mistaken for an answer.
    protocol = Protocol(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _set_child_subreaper()

    # Import the libraries before the submission is on sys.path: a student file named
    # numpy.py or torch.py can then never shadow them.
    import numpy  # noqa: F401
    import psutil  # noqa: F401 - finds what a call left running (_kill_leftovers)

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import driver

    adapter = __import__(f"{args.framework}_adapter")
    adapter.setup()
    sys.path.remove(here)

    # Children run as the same user: make this process non-dumpable so none of them can
    # ptrace it or write into its memory (/proc/PID/mem) and outlive its own call.
    _set_dumpable(False)
    # As the init of its own pid namespace this worker can kill every process a call
    # left behind, which makes it safe to reuse for the next submission.
    clears = os.getpid() == 1
    try:
        protocol.write({"ready": True, "pid": os.getpid(), "clears_leftovers": clears})
        while True:
            request = protocol.read()
            if request is None:
                break  # the grader is gone or done with this worker
            status, code, peak_kb = _run_child(driver, adapter, request["dir"], args.submission, args.memory_mb,
                                               protocol)
            _kill_leftovers()
            protocol.write({"id": request["id"], "status": status, "code": code, "peak_kb": peak_kb})
    finally:
        _kill_leftovers()  # whatever ended this loop (end of stdin, a broken pipe), nothing stays


class GraderGone(Exception):
    """The grader closed its end of the protocol (it exited, was killed, or closed us)."""


class Protocol:
    """JSON lines on two raw descriptors, read so that a call can also watch for the end
    of stdin (``select`` on a buffered file object would miss lines already buffered)."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out
        self._buffer = b""
        self.closed = False

    def fileno(self) -> int:
        return self.fd_in

    def read(self) -> dict | None:
        """The next request, or None once stdin has ended."""
        while b"\n" not in self._buffer:
            if not self._fill():
                return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        line = line.strip()
        return json.loads(line) if line else self.read()

    def _fill(self) -> bool:
        """Read what stdin holds into the buffer; False at its end."""
        if self.closed:
            return False
        data = os.read(self.fd_in, 65536)
        if not data:
            self.closed = True
            return False
        self._buffer += data
        return True

    def write(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            try:
                data = data[os.write(self.fd_out, data):]
            except BrokenPipeError:
                raise GraderGone from None

    def close_in_child(self) -> None:
        for fd in (self.fd_in, self.fd_out):
            os.close(fd)


def _run_child(driver, adapter, folder: str, submission: str, memory_mb: int,
               protocol: Protocol) -> tuple[str, int, int]:
    """Run one request in a fresh child; (how it ended, its code, its peak memory in KiB).

    Raises :class:`GraderGone` when stdin ends while the child runs."""
    pid = os.fork()
    if pid == 0:  # the child: runs student code, then exits without returning
        code = 70
        try:
            protocol.close_in_child()  # student code must not reach the protocol pipes
            _child(driver, adapter, folder, submission, memory_mb)
            code = 0
        except BaseException:  # noqa: BLE001 - anything must end in os._exit
            code = 71
        finally:
            os._exit(code)
    _wait_watching(pid, protocol)
    _, status, usage = os.wait4(pid, 0)  # this child's own usage, not the worker's lifetime
    if os.WIFSIGNALED(status):
        return "signal", os.WTERMSIG(status), usage.ru_maxrss
    return "exit", os.WEXITSTATUS(status), usage.ru_maxrss


def _wait_watching(pid: int, protocol: Protocol) -> None:
    """Return when child ``pid`` has ended (not reaped); raise GraderGone if stdin ends first."""
    try:
        pidfd = os.pidfd_open(pid)  # Linux 5.3+: readable once the child has ended
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            if pidfd is None:
                ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                if ended is not None:
                    return
            ready, _, _ = select.select([protocol] + ([pidfd] if pidfd is not None else []), [], [],
                                        None if pidfd is not None else 0.05)
            if pidfd is not None and pidfd in ready:
                return
            if protocol in ready and not protocol._fill():
                raise GraderGone
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _kill_leftovers() -> None:
    """Kill and reap every process this worker started, however detached.

    The init of a pid namespace kills everyone in it at once. Elsewhere the worker is a
    child subreaper, so every process student code started is still its descendant:
    they are stopped first (so none can start another), then killed."""
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # from a namespace's init: everyone in it but itself
        except ProcessLookupError:
            pass
    else:
        import psutil

        while True:
            alive = []
            for process in psutil.Process().children(recursive=True):
                try:
                    if process.status() != psutil.STATUS_ZOMBIE:
                        process.send_signal(signal.SIGSTOP)
                        alive.append(process)
                except psutil.Error:
                    pass
            if not alive:
                break
            for process in alive:
                try:
                    process.kill()
                except psutil.Error:
                    pass
            _reap()
    _reap()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _set_child_subreaper() -> None:
    """Orphans of student code are re-parented to this worker, not to the system's init."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _set_dumpable(flag: bool) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, int(flag), 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass  # not Linux: nothing to protect against here


def _child(driver, adapter, folder: str, submission: str, memory_mb: int) -> None:
    _set_dumpable(True)  # its own /proc entries behave as usual
    out = os.open(os.path.join(folder, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = sys.stdout
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, 512 * 2**20)
    if os.getuid() != 0:  # as `nobody`: no fork bombs (root would ignore the limit anyway)
        _limit(resource.RLIMIT_NPROC, 256)
    if memory_mb:
        _limit(resource.RLIMIT_AS, memory_mb * 2**20)
    os.chdir(folder)
    sys.path.insert(0, submission)

    import numpy as np

    with open("request.json", encoding="utf-8") as fh:
        request = json.load(fh)
    with np.load("inputs.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    try:
        outputs = driver.handle(adapter, request, arrays)
    except driver.ContractError as exc:
        _write_error("contract", str(exc), None)
        return
    except BaseException as exc:  # noqa: BLE001 - report every student failure
        _write_error(type(exc).__name__, str(exc), traceback.format_exc(), submission)
        return
    tmp = "outputs.tmp.npz"
    np.savez(tmp, **outputs)
    os.replace(tmp, "outputs.npz")


def _write_error(kind: str, message: str, tb: str | None, submission: str | None = None) -> None:
    where = _student_frame(tb, submission) if tb and submission else None
    with open("error.tmp.json", "w", encoding="utf-8") as fh:
        json.dump({"kind": kind, "message": message[:4000], "where": where,
                   "traceback": (tb or "")[-6000:]}, fh)
    os.replace("error.tmp.json", "error.json")


def _student_frame(tb: str, submission: str) -> str | None:
    """The last traceback line that points into the submission: 'file, line N, in f'."""
    last = None
    for line in tb.splitlines():
        line = line.strip()
        if line.startswith("File ") and submission in line:
            last = line.replace(submission + os.sep, "")
    return last


def _limit(kind: int, value: int) -> None:
    try:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, hard))
    except (ValueError, OSError):
        pass


if __name__ == "__main__":
    status = 0
    try:
        main()
    except GraderGone:
        pass  # main() has killed what the calls started
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        status = 1
    # Nothing is left to flush: skip the interpreter's teardown, which takes seconds with a
    # framework loaded, so that the worker is gone as soon as what it started is.
    os._exit(status)
