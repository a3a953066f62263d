"""Harmonize's tables (built by issue #3)."""
