"""Intake: reports from the public, from service providers and from partner hotlines."""
