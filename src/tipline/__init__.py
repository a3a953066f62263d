"""Tipline: an open-source hotline platform."""
