"""The last trade ticket the sizing pane copied, kept as a file in the data dir: the terminal's clipboard
(OSC 52) cannot confirm it received the copy, the file surely holds it."""

from __future__ import annotations

import os
from pathlib import Path

TICKET_FILE = "ticket.txt"


def save_ticket(text: str, folder: Path | None = None) -> Path:
    """Write ``text`` to ``folder``/ticket.txt (the data dir by default), replacing the last one whole:
    a reader never sees half a ticket. Raises OSError when it cannot be written."""
    from perptui.config.paths import data_dir

    folder = data_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TICKET_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path
