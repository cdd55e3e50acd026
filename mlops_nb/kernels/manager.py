"""Kernels that stay on this machine: jupyter_client's kernel manager, on IPC transport.

``IPCKernelManager`` talks to its kernel over Unix domain sockets (no TCP port is opened, so no
plaintext kernel is reachable from the network); its clients are ``ReadyClient``s, which skip
jupyter_client's fixed 0.2 s wait for a quiet IOPub channel. It reports its kernel's process to
a ``watch.KernelWatch``, and forks the kernel from a fork server when given one (``forking``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from mlops_nb.kernels.killer import kernel_pid
from mlops_nb.kernels.watch import KernelWatch

KERNEL_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernel.py")


def ipc_available() -> bool:
    return sys.platform != "win32"


def _ipc_prefix() -> str:
    import secrets
    import tempfile

    from mlops_nb.kernels.sockets import clean_once

    clean_once()  # socket files of killed processes: whoever comes next removes them

    return os.path.join(tempfile.gettempdir(), f"mlops-nb-{os.getpid()}-{secrets.token_hex(4)}")


class ReadyClient(AsyncKernelClient):
    """A kernel client whose ``wait_for_ready`` proves both channels work, then returns.

    jupyter_client's version always waits until IOPub has been quiet for 0.2 s. Seeing IOPub echo
    the status of our own ``kernel_info`` request proves the subscription is live, which is what
    that wait is for; stray earlier messages are ignored by nbclient (wrong parent id).
    """

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (60.0 if timeout is None else timeout)
        sent: set[str] = set()
        wait = IOPUB_FIRST_CHECK
        while True:
            msg_id = self.kernel_info()
            sent.add(msg_id)
            if await self._reply(msg_id, deadline) and await self._iopub_echo(sent, wait):
                return
            wait = min(wait * 2, IOPUB_CHECK)
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    wait_for_ready = _async_wait_for_ready

    async def _reply(self, msg_id: str, deadline: float) -> bool:
        """The shell reply to ``msg_id``; False after a second without it, or as soon as the
        kernel is found dead (a pre-warmer killing a kernel it no longer needs waits for this)."""
        end = min(deadline, time.monotonic() + 1.0)
        while time.monotonic() < end:
            try:
                msg = await self.shell_channel.get_msg(timeout=0.1)
            except Empty:
                if not await self._async_is_alive():
                    return False
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                self._handle_kernel_info_reply(msg)
                return True
        return False

    async def _iopub_echo(self, sent: set[str], wait: float) -> bool:
        """IOPub echoed one of our kernel_info requests within ``wait`` seconds. A request sent
        before our subscription reached the kernel is never echoed (ZeroMQ's "slow joiner"),
        so the caller asks again, soon at first: a forked kernel is ready in ~0.1 s."""
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") in sent:
                return True
        return False


IOPUB_FIRST_CHECK = 0.01  # seconds to wait for the first IOPub echo; doubles up to IOPUB_CHECK
IOPUB_CHECK = 0.5  # the longest wait for an IOPub echo before asking again


class IPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager on IPC transport that reports its process to a ``KernelWatch``."""

    watch: KernelWatch | None = None
    fork_server: Any = None

    def __init__(self, **kwargs: Any) -> None:
        watch = kwargs.pop("watch", None)
        fork_server = kwargs.pop("fork_server", None)
        kwargs.setdefault("client_class", f"{__name__}.ReadyClient")
        if ipc_available():
            kwargs.setdefault("transport", "ipc")
            if kwargs["transport"] == "ipc":
                # Absolute socket paths: the kernel runs in the notebook's folder, the client in
                # ours; jupyter_client's default ("kernel-ipc") is relative and never connects.
                kwargs.setdefault("ip", _ipc_prefix())
                # the connection file (it holds the kernel's key) by its sockets, named for this
                # process: one it leaves when killed is removed with them by the next process
                # (jupyter_client's default is an anonymous tmpXXXX.json nobody removes)
                kwargs.setdefault("connection_file", f"{kwargs['ip']}-kernel.json")
        super().__init__(**kwargs)
        self.watch = watch
        self.fork_server = fork_server

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.fork_server is not None and self.provisioner is None:
            # forking.ForkServer given: the kernel is forked from its template, not exec'd
            import uuid

            from mlops_nb.kernels.fork_source import fork_command

            if fork_command(self.kernel_spec) is not None:
                self.kernel_id = self.kernel_id or str(uuid.uuid4())
                self.provisioner = ForkProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """A plain ipykernel starts through ``_kernel.py``: ipykernel_launcher with an IOPub
        socket that never drops output (see that script)."""
        cmd: list[str] = super().format_kernel_cmd(extra_arguments)
        if cmd[1:3] == ["-m", "ipykernel_launcher"]:
            cmd[1:3] = [KERNEL_SCRIPT]
        return cmd

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.watch is not None:
            self.watch.attach(kernel_pid(self))

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        """Until the kernel process is gone: jupyter_client checks every 0.1 s, which a sweep
        of short runs pays on every run; we check after 2, 4, 8 ... ms (at most pollinterval)."""
        wait = 0.002
        while await self._async_is_alive():
            await asyncio.sleep(wait)
            wait = min(wait * 2, pollinterval)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        if self.watch is not None:
            self.watch.sample()
        await super()._async_shutdown_kernel(now=now, restart=restart)

    shutdown_kernel = _async_shutdown_kernel


class ForkProvisioner(LocalProvisioner):
    """A LocalProvisioner whose launch forks the kernel from ``parent.fork_server`` (a
    ``forking.ForkServer``); polling, signalling and killing are LocalProvisioner's, on a
    ``ForkedProcess``."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        km: Any = self.parent
        server: Any = km.fork_server
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        proc: Any = server.spawn(km.connection_file, cwd, env, forked_kernel_args(cmd))
        self.process = proc
        self.pid = self.pgid = proc.pid  # the child calls setsid(): its own process group
        self.cwd = cwd
        return self.connection_info


def forked_kernel_args(cmd: list[str]) -> list[str]:
    """The arguments a forked kernel gets from ``cmd``, a formatted ``python _kernel.py ...``
    command (``format_kernel_cmd``): all but ``-f FILE`` (the connection file is sent apart)."""
    args = cmd[2:]
    at = args.index("-f")
    return args[:at] + args[at + 2 :]
