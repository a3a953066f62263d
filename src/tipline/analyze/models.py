"""Analyze's tables (built by issue #4)."""
