"""What a file is, told by its bytes, never by its name."""

from modelsteward.formats.sniff import Format, detect

__all__ = ["Format", "detect"]
