"""Orient's tables (built by issue #6)."""
