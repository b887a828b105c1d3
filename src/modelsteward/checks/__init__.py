"""Checks: one package per practice."""
