"""The notifiers a command tells people through: ``--notify FILE``, else ``$STEWARD_HOME/notify.yaml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelsteward.notify import Notifier

NOTIFY_FILE = "notify.yaml"
"""The notifications config under STEWARD_HOME, used when --notify is not given."""


def notifiers(path: Path | None, home: Path) -> tuple[Notifier, ...]:
    """The notifiers configured in ``path``, or in ``home``'s notify.yaml if it exists, else none.

    Raises NotifyConfigError for a config that cannot be read.
    """
    from modelsteward.notify import load_config, notifiers_from  # noqa: PLC0415

    if path is None:
        path = home / NOTIFY_FILE
        if not path.exists():
            return ()
    return notifiers_from(load_config(path), os.environ)
