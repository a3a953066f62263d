"""The staff roles, as Django groups. The console issue gives each its permissions."""

from __future__ import annotations

ANALYST = "analyst"
SENIOR_ANALYST = "senior_analyst"
SUPERVISOR = "supervisor"
ADMIN = "admin"
LIAISON = "liaison"
ROLES = (ANALYST, SENIOR_ANALYST, SUPERVISOR, ADMIN, LIAISON)

# Until the console exists, staff read reports in the admin site.
READ_INTAKE = ("intake.view_report", "intake.view_reportmedia", "intake.view_stagerun")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ANALYST: READ_INTAKE,
    SENIOR_ANALYST: READ_INTAKE,
    SUPERVISOR: (*READ_INTAKE, "intake.view_provider"),
    ADMIN: (*READ_INTAKE, "intake.view_provider"),
    LIAISON: (),
}
