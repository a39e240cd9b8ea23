"""The Ctrl-C harness shared by the interrupt tests (docs/guide/errors.md).

A child Python runs ``setup``, says "ready", runs ``call`` (a call that takes
minutes unless interrupted), and reports whether it ended by KeyboardInterrupt.
The test sends a real SIGINT ``wait`` seconds after "ready" and asserts that the
child stopped within 1 s of it: behaviour ("it stops"), not speed, since every
long loop polls many times a second and the calls take minutes otherwise.
"""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time

PRELUDE = """
import sys
import numpy as np
import ttnn
T = ttnn.PiecewiseConstant.paper()
"""


def _default_sigint() -> None:
    # A shell's background job ignores SIGINT, and Python then installs no
    # handler: restore the default so that the child raises KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# The statement before the call in the child's `try` is load-bearing: CPython 3.11
# and 3.12 can raise a pending KeyboardInterrupt outside a `try` whose body starts
# with a one-line loop (`try: while True: f()`, python/cpython#108214), so that
# no `except` sees it whatever the called function does.


def assert_stops_within_a_second(
    setup: str, call: str, *, wait: float = 1.5, threads: int = 2, what: str = ""
) -> None:
    script = (
        PRELUDE
        + textwrap.dedent(setup)
        + "\n"
        + textwrap.dedent(f"""
        print("ready", flush=True)
        try:
            started = True
            {call}
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished", flush=True)
        """)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS=str(threads)),
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(wait)  # inside the call
        assert proc.poll() is None, proc.stderr.read()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        # Bounded, so that a call that ignores the signal fails the test instead of hanging it.
        answered, _, _ = select.select([proc.stdout], [], [], 10.0)
        assert answered, f"{what}: still running 10 s after SIGINT"
        line = proc.stdout.readline().strip()
        stopped = time.monotonic() - sent
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert line == "interrupted", proc.stderr.read()
    assert proc.returncode == 0
    assert stopped < 1.0, f"{what}: stopped {stopped:.2f} s after SIGINT"
