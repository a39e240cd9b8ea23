"""Session-wide test set-up."""

import signal

# A test run started as a background job (``pytest &``, or by a harness that
# ignores SIGINT) inherits SIGINT ignored, and Python then installs no Ctrl-C
# handler: the Ctrl-C tests' simulated interrupts (``_thread.interrupt_main``)
# would be dropped and their 10⁹-epoch runs never stop, and the children they
# signal would inherit the ignored SIGINT too. Restore Python's own handler, as
# an interactive start has it; children then start with SIGINT at its default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
