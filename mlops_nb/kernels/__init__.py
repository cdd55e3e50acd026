"""Jupyter kernels: started, forked from a warmed-up template, pre-warmed, watched and killed.

One run's lifecycle (``execution/``) and sweeps and pipelines above it take their kernels from
here; nothing here knows about runs, records or notebooks.

- ``manager``: ``IPCKernelManager`` (jupyter_client's, on Unix sockets) and ``ReadyClient``;
  ``watch``: ``KernelWatch`` (a kernel's pid, resources, interrupt, kill); ``killer``: stop a
  kernel now, whoever started it; ``kernelspec``: which installed kernel a notebook names.
- ``forking`` (+ the ``_forkserver.py`` script, ``fork_connection``): kernels forked from a
  fork server; ``fork_source``: which server a kernel comes from (acquire, replace, fall back);
  ``forksafety``: what a template may import; ``_grammars.py``: parsers that modules build at
  import time, built on first use in the template's kernels.
- ``prewarm``: the next kernel starting while the current run executes.
- ``sockets``: socket files of killed processes, removed; ``lifeline``: a sweep worker dies with
  its driver. ``_kernel.py``: the kernel script (output never dropped).
"""
