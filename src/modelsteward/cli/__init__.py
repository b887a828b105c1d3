"""The ``steward`` command line: parse, call one function, render."""
