"""ModelSteward: adopt open-source AI models safely."""

__version__ = "0.1.0"
