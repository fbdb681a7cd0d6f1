"""The progress bar of every long bulk command (`events send --file`, `dlq retry --all`).

It draws on stderr and only when stderr is a terminal, so piped and redirected runs print the
summary alone; the summary itself is always printed by the command.
"""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .output import Printer

__all__ = ["bulk_progress"]


def bulk_progress(printer: Printer) -> Progress:
    """``with bulk_progress(p) as bar: task = bar.add_task("Sending", total=n); bar.advance(task)``."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=printer.err_console,
        disable=not printer.err_console.is_terminal,
    )
