"""Harmonize: canonical URLs, one item per thing reported, a common taxonomy."""
