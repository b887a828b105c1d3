"""Renderers: turn results into text, JSON, SARIF and the other formats people and tools read."""
