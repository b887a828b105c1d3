"""Keep Hugging Face libraries off the network: models load from their directory only."""

from __future__ import annotations

import os


def stay_offline() -> None:
    """Tell huggingface_hub and transformers never to download; they read this when first imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
