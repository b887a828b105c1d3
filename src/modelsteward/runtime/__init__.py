"""Running models: the sandboxed worker every model load and inference goes through."""
