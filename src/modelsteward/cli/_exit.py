"""Exit statuses shared by every command, documented in the README."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2
EXIT_ERROR = 2
"""admit: no decision was reached; evaluate and compare: the model could not be loaded or run."""
EXIT_USAGE = 4
