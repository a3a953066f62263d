"""Cross-reference's tables (built by issue #5)."""
