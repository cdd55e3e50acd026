"""papermill's notebook client, made safe for heavy output.

Three faults of heavy output, and their fixes here:

- **Output lost or a run failed at random** (a cell writing 1 MB in 10,000 flushed writes):
  after a cell's execute reply, nbclient waits for the rest of its output (until the kernel's
  ``idle`` status) at most ``iopub_timeout`` seconds in total (4 s) and papermill makes that
  wait fatal (``raise_on_iopub_timeout=True``): when the driver is slower than the kernel
  writes, the backlog takes longer than 4 s and the run fails with "CellTimeoutError ... after 4
  seconds" although no timeout was set. Here the wait lasts as long as output keeps arriving;
  only ``iopub_timeout`` seconds *without any* output fail it (``OutputStalled``, which says so).
  And ZeroMQ drops messages silently once 1,000 wait in the IOPub subscriber (its default high
  water mark; zmq_setsockopt(3) ``ZMQ_RCVHWM``), which cut saved output short even in runs
  recorded ``ok``: the client's IOPub socket is unbounded (``kernels.manager.ReadyClient``), so
  nothing is dropped and the cap (``stream_cap``) keeps the driver's memory bounded.
- **Giant output** (a cell printing 200 MB: a 212 MB notebook, the driver at ~1 GB) and **many
  tiny outputs**: every stream message goes through a ``stream_cap.StreamCap``, which caps the
  text kept per run (the rest goes to a file in the run folder) and merges consecutive writes.
"""

from __future__ import annotations

import asyncio
import time
import typing as t
from queue import Empty

from nbclient.client import timestamp
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient

from mlops_nb.execution.stream_cap import StreamCap


class OutputStalled(CellTimeoutError):
    """The kernel finished a cell but its output stopped arriving before the cell's end."""


class MlopsNotebookClient(PapermillNotebookClient):  # type: ignore[misc]
    """PapermillNotebookClient with the output handling described in this module."""

    @property
    def _clear_pending(self) -> bool:
        return bool(self.clear_before_next_output)

    @_clear_pending.setter
    def _clear_pending(self, value: bool) -> None:
        self.clear_before_next_output = value

    # With an output stream (--log-output), results (``text/plain``) and errors are written there
    # too, not only print() output (papermill sends those to its logger).
    def log_output_message(self, output: t.Any) -> None:
        super().log_output_message(output)
        if not self.stdout_file or output.output_type == "stream":
            return
        if output.output_type == "error":
            if output.ename == "KeyboardInterrupt":
                return  # how the run is stopped (timeout, signal): the summary says which
            stream = self.stderr_file or self.stdout_file
            stream.write(f"{output.ename}: {output.evalue}\n")
            stream.flush()  # in order with the summary, not at exit
        elif "text/plain" in output.get("data", {}):
            self.stdout_file.write("".join(output.data["text/plain"]) + "\n")
            self.stdout_file.flush()

    def __init__(self, nb_man: t.Any, *, stream_cap: StreamCap, **kw: t.Any) -> None:
        super().__init__(nb_man, **kw)
        self.stream_cap = stream_cap
        self._last_output = time.monotonic()

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, t.Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        parent = msg["parent_header"].get("msg_id")
        if msg["msg_type"] != "stream" or self.output_hook_stack[parent]:
            if self._clear_pending:
                self.stream_cap.forget(cell_index, outs)
            return super().output(outs, msg, display_id, cell_index)  # type: ignore[no-any-return]
        if self._clear_pending:
            self.stream_cap.forget(cell_index, outs)
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self._clear_pending = False
        content = msg["content"]
        number = self._user_cell_number(cell_index)
        return self.stream_cap.add(outs, number, str(content["name"]), str(content["text"]))  # type: ignore[no-any-return]

    def _user_cell_number(self, cell_index: int) -> int:
        """The cell's number in the user's notebook, from 1 (papermill's injected cell does not
        count), as every message of mlops-nb numbers cells."""
        cells = self.nb.cells[:cell_index]
        injected = sum(1 for c in cells if "injected-parameters" in c.metadata.get("tags", []))
        return int(cell_index) + 1 - injected

    def clear_output(
        self, outs: list[NotebookNode], msg: dict[str, t.Any], cell_index: int
    ) -> None:
        if not msg["content"].get("wait"):
            self.stream_cap.forget(cell_index, outs)
        super().clear_output(outs, msg, cell_index)

    async def _async_poll_output_msg(
        self, parent_msg_id: str, cell: NotebookNode, cell_index: int
    ) -> None:
        assert self.kc is not None
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            self._last_output = time.monotonic()
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    return

    async def _async_poll_for_reply(
        self,
        msg_id: str,
        cell: NotebookNode,
        timeout: int | None,
        task_poll_output_msg: asyncio.Future[t.Any],
        task_poll_kernel_alive: asyncio.Future[t.Any],
    ) -> dict[str, t.Any]:
        """nbclient's, except for the wait for the output after the reply (``_drain``)."""
        assert self.kc is not None
        new_timeout: float | None = None
        deadline = 0.0
        if timeout is not None:
            deadline = time.monotonic() + timeout
            new_timeout = float(timeout)
        error_on_timeout_execute_reply = None
        while True:
            try:
                if error_on_timeout_execute_reply:
                    msg = error_on_timeout_execute_reply
                    msg["parent_header"] = {"msg_id": msg_id}
                else:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=new_timeout))
                if msg["parent_header"].get("msg_id") == msg_id:
                    if self.record_timing:
                        cell["metadata"]["execution"]["shell.execute_reply"] = timestamp(msg)
                    await self._drain(cell, task_poll_output_msg, task_poll_kernel_alive)
                    task_poll_kernel_alive.cancel()
                    return t.cast(dict[str, t.Any], msg)
                if new_timeout is not None:
                    new_timeout = max(0, deadline - time.monotonic())
            except Empty:
                assert timeout is not None
                task_poll_kernel_alive.cancel()
                await self._async_check_alive()
                error_on_timeout_execute_reply = await self._async_handle_timeout(timeout, cell)

    async def _drain(
        self,
        cell: NotebookNode,
        task_poll_output_msg: asyncio.Future[t.Any],
        task_poll_kernel_alive: asyncio.Future[t.Any],
    ) -> None:
        """Wait for the cell's remaining output while it keeps coming; fail after
        ``iopub_timeout`` seconds with none."""
        idle = float(self.iopub_timeout)
        self._last_output = time.monotonic()
        while not task_poll_output_msg.done():
            left = self._last_output + idle - time.monotonic()
            if left <= 0:
                if not await ensure_async(self.km.is_alive()):
                    raise DeadKernelError("Kernel died")
                task_poll_kernel_alive.cancel()
                task_poll_output_msg.cancel()
                raise OutputStalled(
                    f"the kernel finished the cell but its output stopped arriving for {idle:g} s "
                    "before the cell's end-of-output message (nbclient iopub_timeout); the "
                    "cell's saved output may be incomplete"
                )
            await asyncio.wait({task_poll_output_msg}, timeout=min(left, 0.5))
        task_poll_output_msg.result()
