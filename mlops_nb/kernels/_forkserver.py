"""A kernel fork server: IPython kernels forked from a warmed-up template process.

Run as a script by the kernel's own Python (``python _forkserver.py CONTROL_FD SOCKET PRELOAD
DEFERRED``: comma-separated modules to import, and modules whose parsers are built on first use),
so it imports nothing from mlops_nb: only the standard library and ipykernel.

Starting an IPython kernel costs ~0.5 s of CPU, most of it importing ipykernel, IPython,
tornado and debugpy. This process imports all of that once (plus the ``--preload`` modules),
then forks one child per kernel request; a child only creates its sockets and its shell
(~0.1 s). It is the idea of ``multiprocessing``'s "forkserver" start method, applied to kernels.
Every kernel is still a fresh process forked from the same untouched template, so nothing of one
run reaches another.

Each child behaves like a kernel launched by jupyter_client: its own session (process group),
stdin from /dev/null, stdout/stderr inherited, the requested working directory and environment,
``sys.argv`` as ``ipykernel_launcher`` would have it, fresh random seeds (``random`` reseeds
itself after a fork; numpy's global generator is reseeded here), default signal handlers, and it
exits when this server exits (ipykernel's parent poller).

Protocol: JSON lines. The control connection (an inherited socket, ``CONTROL_FD``) receives the
``ready`` line and is the lifeline: when it closes, the owner is gone, every child is killed and
the server exits. Other processes of the same owner (pool workers) connect to ``SOCKET``, a Unix
socket in a private directory. Requests ``{"id": n, "connection_file": ..., "cwd": ...,
"env": {...}, "args": [...]}`` are answered ``{"id": n, "pid": p}`` (or ``"error"``); when a
child exits, the connection that asked for it gets ``{"exit": p, "status": s}``. A connection
that closes takes its live children with it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import sys
import threading
import warnings
from typing import Any

# The script's own folder must not shadow modules of the kernel (python puts it on sys.path[0]).
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

# What an IPython kernel imports while it initialises, so children do not have to.
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "IPython.core.logger",  # imported by every kernel's shell, after the fork
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
    "tornado.platform.asyncio",
    "sqlite3",
    "pdb",
    "faulthandler",
    "unicodedata",
    "encodings.idna",
)
# What every notebook of this product imports to record its results (``scrapbook.glue``): in the
# template without any flag. Where JupyterLab is installed a kernel pays ~2 s for it (papermill,
# jsonschema's format checkers, rfc3987_syntax's parsers); the template ~0.6 s, the parsers being
# built on first use (``_grammars.py``). Absent: not an error.
RECORDING_MODULES = ("scrapbook",)
LAUNCHER = "ipykernel_launcher.py"
_FORK_WARNING: Any = None  # our filter of Python's fork-with-threads warning (not for kernels)


def _import_all(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    import importlib

    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException as e:  # an ImportError, or a module failing at import time
            failed[name] = f"{type(e).__name__}: {e}"
    return failed


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class Server:
    def __init__(self, control: socket.socket, path: str | None) -> None:
        self.sel = selectors.DefaultSelector()
        self.conns: dict[socket.socket, bytearray] = {}  # connection -> unparsed input
        self.children: dict[int, socket.socket] = {}  # pid -> the connection that asked
        self.control = control
        self.listener: socket.socket | None = None
        if path:
            old = os.umask(0o077)
            try:
                self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.listener.bind(path)
                self.listener.listen(64)
            finally:
                os.umask(old)
            self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self._add(control)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")

    def _add(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        self.conns[conn] = bytearray()
        self.sel.register(conn, selectors.EVENT_READ, "conn")

    def send(self, conn: socket.socket, msg: dict[str, Any]) -> None:
        # If the other side is gone, its children go when we notice the close.
        with contextlib.suppress(OSError):
            conn.sendall((json.dumps(msg) + "\n").encode())

    def serve(self) -> None:
        while self.control in self.conns:
            for key, _ in self.sel.select():
                if key.data == "accept":
                    assert self.listener is not None
                    try:
                        conn, _ = self.listener.accept()
                    except OSError:
                        continue
                    self._add(conn)
                elif key.data == "wake":
                    with contextlib.suppress(OSError):
                        while os.read(self.wake_r, 512):
                            pass
                    self.reap()
                else:
                    assert isinstance(key.fileobj, socket.socket)
                    self.receive(key.fileobj)
            self.reap()

    def receive(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        buf = self.conns[conn]
        buf.extend(data)
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            try:
                req = json.loads(line)
            except ValueError:
                req = None
            if not isinstance(req, dict) or not isinstance(req.get("connection_file"), str):
                self.send(conn, {"error": "not a kernel request"})
                continue
            self.spawn(conn, req)

    def drop(self, conn: socket.socket) -> None:
        self.sel.unregister(conn)
        self.conns.pop(conn, None)
        conn.close()
        for pid, owner in list(self.children.items()):
            if owner is conn:
                _kill_group(pid)

    def spawn(self, conn: socket.socket, req: dict[str, Any]) -> None:
        rid = req.get("id")
        try:
            pid = os.fork()
        except OSError as e:
            self.send(conn, {"id": rid, "error": f"fork failed: {e}"})
            return
        if pid == 0:  # the child: never returns
            self.become_kernel(req)
        self.children[pid] = conn
        self.send(conn, {"id": rid, "pid": pid})

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is not None and conn in self.conns:
                self.send(conn, {"exit": pid, "status": _exit_code(status)})

    def become_kernel(self, req: dict[str, Any]) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            filters: Any = warnings.filters
            if _FORK_WARNING in filters:  # the server's filter, not for the user's code
                filters.remove(_FORK_WARNING)
                getattr(warnings, "_filters_mutated", lambda: None)()
            os.setsid()
            self.sel.close()
            for conn in list(self.conns):
                conn.close()
            if self.listener is not None:
                self.listener.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            os.chdir(req.get("cwd") or ".")
            env = req.get("env")
            if env is not None:
                os.environ.clear()
                os.environ.update(env)
            _reseed()
            code = _start_kernel(req)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            try:
                import atexit

                atexit._run_exitfuncs()
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _exit_code(status: int) -> int:
    """As ``os.waitstatus_to_exitcode`` (Python 3.9+) says: -N for a kill by signal N."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _reseed() -> None:
    """``random`` reseeds itself in a forked child; numpy's legacy global generator does not."""
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        with contextlib.suppress(Exception):
            np_random.seed()


def _start_kernel(req: dict[str, Any]) -> int:
    import ipykernel
    from ipykernel.kernelapp import IPKernelApp

    args = ["-f", req["connection_file"], *req.get("args", [])]
    site = os.path.dirname(os.path.dirname(os.path.abspath(ipykernel.__file__)))
    sys.argv = [os.path.join(site, LAUNCHER), *args]
    # The parent poller: exit when this server goes (the default was read at import time).
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    args.append(f"--IPKernelApp.parent_handle={os.getppid()}")
    app: Any = IPKernelApp.instance()
    config = fast_config(args)
    if config is None:
        app.initialize(args)
    else:
        # The same configuration without building traitlets' argument parser (~30 ms a kernel).
        app.update_config(config)
        app.parse_command_line = lambda argv=None: None
        app.initialize([])
    app.start()
    return 0


def fast_config(args: list[str]) -> Any:
    """The Config that ``-f FILE`` and ``--Class.trait=value`` arguments give, or None for any
    other argument (the kernel then parses its command line as usual)."""
    from traitlets.config import Config
    from traitlets.config.loader import DeferredConfigString

    config = Config()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-f" and i + 1 < len(args):
            config.IPKernelApp.connection_file = DeferredConfigString(args[i + 1])
            i += 2
            continue
        key, eq, value = arg[2:].partition("=")
        section, _, trait = key.rpartition(".")
        names = [*section.split("."), trait]
        if not (arg.startswith("--") and eq and section and all(n.isidentifier() for n in names)):
            return None
        config[section][trait] = DeferredConfigString(value)
        i += 1
    return config


def patch_kernels() -> None:
    """The patches of ``_kernel.py`` (kernels that never drop output and send it in small
    messages), applied to the template every kernel is forked from."""
    _sibling("_kernel").patch()


def _sibling(name: str) -> Any:
    """A script module next to this one (``_kernel``, ``_grammars``), loaded from its file."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_mlops_nb{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kill_group(pid: int) -> None:
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
            return
        except OSError:
            pass


def _exit_on_signal(signum: int, frame: Any) -> None:
    sys.exit(128 + signum)  # unwinds serve(): the children are killed on the way out


def main(argv: list[str]) -> int:
    gc.disable()  # until the imports are done: see gc.freeze() below
    control = socket.socket(fileno=int(argv[1]))
    path = argv[2] or None
    preload = [m for m in argv[3].split(",") if m] if len(argv) > 3 else []
    deferred = [m for m in argv[4].split(",") if m] if len(argv) > 4 else []
    # Ctrl-C in a terminal reaches the whole process group; the owner decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # As ipykernel does before the user's code runs, so a preloaded matplotlib picks it up.
    # As jupyter_client does for kernels: debugpy (imported by ipykernel) checks no files.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    failed = _import_all(KERNEL_MODULES[:1])
    if failed:
        msg = {"error": f"cannot import ipykernel: {failed[KERNEL_MODULES[0]]}"}
        control.sendall((json.dumps(msg) + "\n").encode())
        return 1
    with _sibling("_grammars").deferring(deferred):  # built on first use, in a kernel
        _import_all(KERNEL_MODULES[1:])
        patch_kernels()
        _import_all(RECORDING_MODULES)
        failed = _import_all(preload)
    threads = _threads()
    # Everything imported so far lives in every child; keep the children's garbage collector
    # off it, or its bookkeeping writes would copy those memory pages into each child. The
    # collector was off while the template imported (the recipe of the gc module's docs for
    # fork without exec: "gc.disable() early in the parent, gc.freeze() right before fork()"):
    # ~15 % less CPU for the imports, no collection leaves holes among the objects kept.
    gc.freeze()
    gc.enable()  # in the children and here, for what is made from now on
    server = Server(control, path)
    # Children are forked from this single thread; another thread would not exist in a child.
    global _FORK_WARNING
    warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks.*")
    _FORK_WARNING = warnings.filters[0]
    ready = {"ready": os.getpid(), "preload_failed": failed, "threads": threads}
    server.send(control, ready)
    try:
        server.serve()
    finally:
        for pid in list(server.children):
            _kill_group(pid)
        if path:  # even when our owner was killed and cannot clean up
            with contextlib.suppress(OSError):
                os.unlink(path)
                os.rmdir(os.path.dirname(path))
    # Nothing to clean up beyond this: skip tearing down the imported modules.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
