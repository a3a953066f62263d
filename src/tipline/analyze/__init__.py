"""Analyze: observables, indicators, hash banks, evidence capture, hosting."""
