"""Orient: routing to offices, partner hotlines and hosts; delivery; takedown follow-up."""
