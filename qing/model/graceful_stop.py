"""Stopping a training run without losing its last steps: the first Ctrl+C, SIGTERM (a rented instance being shut
down) or SIGHUP (the SSH session gone) asks the Trainer to finish the step it is in, save a checkpoint and stop;
a second one stops at once, as it always did.

Only a run of one process stops this way: the processes of a distributed run would each finish a different step
and wait for each other forever, so they keep stopping at once. A signal the caller ignores (nohup's SIGHUP) stays
ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

from qing.i18n import _

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class TrainingStopped(KeyboardInterrupt):
    """Training stopped on a signal after saving checkpoint-STEP; handled as Ctrl+C is, with what was kept."""

    def __init__(self, signum: int, step: int):
        super().__init__(signum)
        self.signum, self.step = signum, step


class StopRequest:
    """Whether a stop was asked for, and by which signal."""

    def __init__(self):
        self.signum: int | None = None


@contextlib.contextmanager
def stop_at_step_end(note: Callable[[str], None], enabled: bool = True) -> Iterator[StopRequest]:
    """Within the block, the first stop signal is recorded in the yielded request (and NOTE says what happens);
    the second goes to the handler that was there before (Ctrl+C's KeyboardInterrupt, the CLI's clean stop)."""
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}

    def ask(signum, frame):
        if request.signum is not None:  # the second: stop now
            restore()
            handler = previous[signum]
            if callable(handler):
                handler(signum, frame)
            raise KeyboardInterrupt
        request.signum = signum
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            note(_("stopping after this step, with a checkpoint to --resume from ({signal} again stops at "
                   "once).").format(signal="Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name))

    def restore():
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, ask)
    try:
        yield request
    finally:
        restore()


def stop_callback(request: StopRequest):
    """A Trainer callback that, once REQUEST is set, saves a checkpoint at the end of the step and ends training."""
    from transformers import TrainerCallback

    class StopWhenAsked(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if request.signum is not None:
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopWhenAsked()
