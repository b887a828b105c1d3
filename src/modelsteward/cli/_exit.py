"""Exit statuses shared by every command, documented in the README."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2
EXIT_USAGE = 4
