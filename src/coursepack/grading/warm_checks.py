"""``course check`` with the framework already loaded: workers kept warm between checks.

Every check needs a worker that has imported the framework: about 4 s for PyTorch and
5-8 s for TensorFlow before the first test can run, on every check. A student fixing one
task checks it again and again, so that wait is most of what they feel.

The first check in a terminal therefore starts a *check server* beside it: a process of
this package that stays when the check ends, keeps its workers (each with its framework
imported) and runs the next checks of the same course. Nothing else changes:

* The server runs exactly :func:`coursepack.grading.grader.grade` in check mode, with
  its workers as the pool. The client (``course check``) renders the same progress and
  the same table from what the server sends back.
* Before each check the server copies the student's files in again
  (:meth:`~coursepack.judge.worker.Worker.refresh`). Every call still runs in a fresh
  child of a worker that never imported student code, and whatever a call starts is
  killed when it ends, so no process that ran student code outlives its call.
* The server stops after :data:`IDLE_SECONDS` without a check, on SIGTERM, and when the
  package or the course's files change: the next check starts a server of the new key
  (their digest) and asks the old one to stop. When a check's client goes away mid-run
  (Ctrl-C), that check's workers are closed at once.
* It is used only from a terminal (stdin and stdout), never under CI, and
  ``COURSE_WARM_CHECKS=0`` turns it off (``=1`` turns it on anywhere). When anything
  goes wrong with it, the check runs in the client's own process, as before.

The server listens on a Unix socket in a folder only this user can enter
(``$TMPDIR/course-checks-UID``, mode 0700).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import coursepack
from coursepack.course.config import Course, load_course
from coursepack.errors import CourseError
from coursepack.reports.results import Report

# The client (``course check``) imports neither the grader nor the worker: a check that
# a server answers then starts in well under a second. The server imports them (main).
if TYPE_CHECKING:
    from coursepack.judge.worker import Worker

ENV = "COURSE_WARM_CHECKS"      # "0": never; "1": always (also outside a terminal)
IDLE_ENV = "COURSE_WARM_CHECKS_IDLE"
IDLE_SECONDS = 600.0            # a server with no check for this long stops
START_SECONDS = 60.0            # a new server must answer within this, else the check runs here
PROTOCOL = 1
LIBRARIES = ("torch", "tensorflow", "tensorflow-cpu", "keras", "numpy", "pytest")
MAX_SOCKET_PATH = 100           # bytes; a Unix socket's path must fit in 108


@dataclass
class Outcome:
    """One check's report, and how it was run."""

    report: Report
    served: bool          # by a check server (False: in this process)
    started: bool = False  # this check started the server
    warm: bool = False    # the server's workers had their framework loaded already
    note: str = ""        # why the server was not used, when it was wanted
    server_pid: int | None = None


def wanted() -> bool:
    """Whether ``course check`` should use a check server here (see the module doc)."""
    value = os.environ.get(ENV, "").strip()
    if value in ("0", "1"):
        return value == "1"
    if os.environ.get("CI") or not hasattr(socket, "AF_UNIX") or not hasattr(os, "getuid"):
        return False
    try:
        return os.isatty(0) and os.isatty(1)
    except OSError:
        return False


def idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get(IDLE_ENV, IDLE_SECONDS)))
    except ValueError:
        return IDLE_SECONDS


# -- where the server listens ------------------------------------------------------------
def _socket_folder_path() -> Path:
    return Path(tempfile.gettempdir()) / f"course-checks-{os.getuid()}"


def socket_folder() -> Path | None:
    """This user's private folder for check servers, or None if it is not safe to use
    (someone else's, a link, or open to others)."""
    folder = _socket_folder_path()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) != 0o700:
        return None
    return folder


def server_key(course: Course) -> str:
    """A digest of everything a server's checks depend on besides the student's files:
    this Python, this package and the libraries the workers load, the course's
    definition, public tests and shared files, and the ``COURSE_*`` settings. Any change
    gives a new key, hence a new server."""
    digest = hashlib.sha256()
    digest.update(f"{PROTOCOL}\0{sys.executable}\0{sys.version}\0{course.path.resolve()}\0".encode())
    for name in sorted(k for k in os.environ if k.startswith("COURSE_") and k not in (ENV, IDLE_ENV)):
        digest.update(f"{name}={os.environ[name]}\0".encode())
    for library in LIBRARIES:  # an upgraded framework must not be checked by the old one
        try:
            digest.update(f"{library}=={metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            pass
    roots = [Path(coursepack.__file__).parent, course.path, course.public_tests,
             *(course.shared_source(n) for n in course.shared_files)]
    for root in roots:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:20]


# -- the client: `course check` ------------------------------------------------------------
def check(course: Course, folder: Path, *, frameworks: tuple[str, ...], tasks: set[str] | None,
          progress: Callable[[str, dict], None] | None = None) -> Outcome:
    """``course check``: through this course's check server (started if needed) where
    one is :func:`wanted`, else, or when the server cannot be used, in this process. A
    :class:`CourseError` of the check is raised as usual."""
    note = ""
    if wanted():
        served = _through_server(course, folder, frameworks, tasks, progress)
        if isinstance(served, Outcome):
            return served
        note = served
    from coursepack.grading.grader import grade  # lazy: start-up (see the imports)

    report, _ = grade(course, folder, frameworks=frameworks, mode="check", tasks=tasks, progress=progress)
    return Outcome(report, served=False, note=note)


def _through_server(course, folder, frameworks, tasks, progress) -> Outcome | str:
    """The check's outcome from the server, or why the server could not give it."""
    sockets = socket_folder()
    if sockets is None:
        return f"{_socket_folder_path()} is not a private folder"
    path = sockets / f"{course_tag(course)}-{server_key(course)}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        return f"the path of its socket, {path}, is too long for a Unix socket: set TMPDIR to a shorter folder"
    started = False
    connection = _connect(path)
    if connection is None:
        _stop_older_servers(course, sockets, path)
        try:
            server = _start_server(course, path)
        except OSError as exc:
            return f"it could not start ({exc})"
        started = True
        connection = _connect(path, wait=START_SECONDS, server=server)
        if connection is None:
            why = "it did not answer in time" if server.poll() is None else "it stopped as it started"
            return f"{why}; see {path.with_suffix('.log')}"
    request = {"protocol": PROTOCOL, "submission": str(Path(folder).resolve()), "frameworks": list(frameworks),
               "tasks": sorted(tasks) if tasks else None}
    with connection:
        reply = _exchange(connection, request, progress)
    if reply is None:
        return "it stopped during the check"
    if "error" in reply:
        raise CourseError(reply["error"])  # already whole: file, problem and fix
    if "report" not in reply:
        return reply.get("failed", "it failed")
    return Outcome(Report.from_dict(reply["report"]), served=True, started=started, warm=bool(reply.get("warm")),
                   server_pid=reply.get("pid"))


def course_tag(course: Course) -> str:
    """The start of every socket name of this course's servers, whatever their key."""
    return hashlib.sha256(str(course.path.resolve()).encode()).hexdigest()[:8]


def _stop_older_servers(course: Course, sockets: Path, keep: Path) -> None:
    """Ask this course's servers of other keys (the package or the course has changed
    since they started) to stop now rather than after their idle time."""
    for other in sockets.glob(f"{course_tag(course)}-*.sock"):
        if other != keep:
            connection = _connect(other)
            if connection is not None:
                with connection:
                    _send(connection, {"protocol": PROTOCOL, "stop": True})


def _connect(path: Path, wait: float = 0.0, server: subprocess.Popen | None = None) -> socket.socket | None:
    """A connection to the server at ``path``, waiting up to ``wait`` seconds (while
    ``server``, the one just started, is alive); a file no server listens on is removed."""
    deadline = time.monotonic() + wait
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(str(path))
            return connection
        except ConnectionRefusedError:  # a server that was killed left its socket file
            connection.close()
            if wait == 0.0:
                path.unlink(missing_ok=True)
        except OSError:
            connection.close()
        if time.monotonic() >= deadline:
            return None
        if server is not None and server.poll() is not None:
            # It exited: another server of this key won the race (then it answers now), or
            # it failed (its log says why).
            return _connect(path)
        time.sleep(0.05)


def _start_server(course: Course, path: Path) -> subprocess.Popen:
    # -P and the course's folder as the working folder: the student's working folder is
    # never on this trusted process's sys.path (a random.py there would be imported).
    log = open(path.with_suffix(".log"), "ab")  # noqa: SIM115 - handed to the server
    try:
        return subprocess.Popen(
            [sys.executable, "-P", "-m", "coursepack.grading.warm_checks", "--course", str(course.path.resolve()),
             "--socket", str(path), "--idle", str(idle_seconds())],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=course.root, start_new_session=True,
            close_fds=True)
    finally:
        log.close()


def _exchange(connection: socket.socket, request: dict, progress) -> dict | None:
    """Send the request; pass progress events on; the final reply, None if the server
    went away (stopped, killed, or stopping while this check waited its turn)."""
    try:
        connection.sendall((json.dumps(request) + "\n").encode())
        for line in connection.makefile("r", encoding="utf-8"):
            message = json.loads(line)
            if not isinstance(message, dict):
                return None
            if "event" in message:
                if progress is not None:
                    progress(message["event"], message.get("info", {}))
                continue
            return message
    except (OSError, ValueError):
        return None
    return None


# -- the server ------------------------------------------------------------------------------
class CheckServer:
    """Runs checks of one course, one at a time, with workers kept warm between them."""

    def __init__(self, course: Course, path: Path, idle: float):
        self.course, self.path, self.idle = course, path, idle
        self.submission: Path | None = None
        self.pool: dict[str, Worker] = {}
        self.lane_pool: dict[str, Worker] = {}
        self.stopping = False

    def serve(self) -> None:
        # Bound and listening under a name of its own first, then linked into place: a
        # client never finds this socket before it can answer (and so never removes it as
        # stale), and a second server of the same key finds the name taken and leaves.
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        private = self.path.with_name(f".{os.getpid()}-{self.path.name}")
        private.unlink(missing_ok=True)
        listener.bind(str(private))
        os.chmod(private, 0o600)
        listener.listen(8)
        try:
            os.link(private, self.path)
        except OSError as exc:
            listener.close()
            private.unlink(missing_ok=True)
            if exc.errno == errno.EEXIST:
                return  # another server took this key first: it serves the checks
            raise
        private.unlink()
        identity = os.stat(self.path).st_ino
        try:
            listener.settimeout(self.idle)
            while self.course.path.is_file() and not self.stopping:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    break
                with connection:
                    self.handle(connection)
        finally:
            self.close_workers()
            try:  # remove the socket file unless a newer server's replaced it
                if os.stat(self.path).st_ino == identity:
                    self.path.unlink()
            except OSError:
                pass
            log = self.path.with_suffix(".log")
            with contextlib.suppress(OSError):
                if log.stat().st_size == 0:  # kept only when something went wrong
                    log.unlink()
            listener.close()

    def handle(self, connection: socket.socket) -> None:
        from coursepack.grading.grader import grade  # loaded by main() before the first check

        connection.settimeout(30)
        try:
            request = json.loads(connection.makefile("r", encoding="utf-8").readline())
            if not isinstance(request, dict):
                raise TypeError("not a JSON object")
            if request.get("stop"):  # a newer server of this course has taken over
                self.stopping = True
                return
            submission = Path(request["submission"])
            frameworks = tuple(request["frameworks"])
            tasks = set(request["tasks"]) if request.get("tasks") else None
            if request.get("protocol") != PROTOCOL:
                raise ValueError("another version of the package")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _send(connection, {"failed": f"a request it could not read ({exc})"})
            return
        connection.settimeout(None)
        if _hung_up(connection):  # interrupted while it waited for its turn: keep the workers
            return
        if submission != self.submission:
            self.close_workers()  # another folder: its workers start afresh, with its own hiding
            self.submission = submission
        for pool in (self.pool, self.lane_pool):
            for framework in [fw for fw, w in pool.items() if w.retired or not w.running]:
                pool.pop(framework).close()
            for worker in pool.values():
                worker.refresh()
        warm = all(fw in self.pool for fw in frameworks)
        gone = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(connection, gone), daemon=True)
        watcher.start()

        def progress(event: str, info: dict) -> None:
            if not gone.is_set() and not _send(connection, {"event": event, "info": info}):
                self._client_gone(gone)

        try:
            report, _ = grade(self.course, submission, frameworks=frameworks, mode="check", tasks=tasks,
                              pool=self.pool, lane_pool=self.lane_pool, progress=progress)
        except CourseError as exc:
            _send(connection, {"error": str(exc)})
            return
        except Exception as exc:  # noqa: BLE001 - the client runs the check itself
            traceback.print_exc()  # into the server's log
            self.close_workers()
            _send(connection, {"failed": f"{type(exc).__name__}: {exc}; see {self.path.with_suffix('.log')}"})
            return
        finally:
            gone.set()
        if not _send(connection, {"report": report.to_dict(), "warm": warm, "pid": os.getpid()}):
            self.close_workers()

    def _watch(self, connection: socket.socket, done: threading.Event) -> None:
        """Close the workers as soon as the client goes away (Ctrl-C) mid-check: the
        grading then ends at once instead of running for nobody."""
        while not done.is_set():
            if _hung_up(connection, wait=0.2) and not done.is_set():
                self._client_gone(done)
                return

    def _client_gone(self, gone: threading.Event) -> None:
        gone.set()
        for worker in self._all_workers():
            worker.retire()

    def _all_workers(self) -> list[Worker]:
        return [*self.pool.values(), *self.lane_pool.values()]

    def close_workers(self) -> None:
        from coursepack.judge.worker import close_pool  # loaded by main() with the grader

        close_pool(self.pool, self.lane_pool)


def _hung_up(connection: socket.socket, wait: float = 0.0) -> bool:
    """Whether the client has closed its end (it never sends anything after its request)."""
    readable, _, _ = select.select([connection], [], [], wait)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _send(connection: socket.socket, message: dict) -> bool:
    try:
        connection.sendall((json.dumps(message) + "\n").encode())
        return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m coursepack.grading.warm_checks",
                                     description="A check server (started by `course check`).")
    parser.add_argument("--course", type=Path, required=True)
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS)
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, the server closes its workers and removes its socket first
    # (during a check, grade() turns SIGTERM into KeyboardInterrupt for the same end).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    import coursepack.grading.grader  # noqa: F401 - before the first check, not during it

    with contextlib.suppress(KeyboardInterrupt):
        CheckServer(load_course(args.course), args.socket, args.idle).serve()


if __name__ == "__main__":
    main()
