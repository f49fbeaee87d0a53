"""Loading pretrained transformers models without their "Loading weights" progress bars.

The CLI's stderr carries our own progress and errors, and a batch log should not fill with bars for
models that load in a second.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def quiet_loading():
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
