"""Statistics: the supervisors' dashboard and the annual report."""
