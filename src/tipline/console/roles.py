"""The staff roles, as Django groups. The console issue gives each its permissions."""

from __future__ import annotations

ANALYST = "analyst"
SENIOR_ANALYST = "senior_analyst"
SUPERVISOR = "supervisor"
ADMIN = "admin"
LIAISON = "liaison"
ROLES = (ANALYST, SENIOR_ANALYST, SUPERVISOR, ADMIN, LIAISON)

# Until the console exists, staff read reports and networks in the admin site.
READ_INTAKE = ("intake.view_report", "intake.view_reportmedia", "intake.view_stagerun")
READ_CROSSREF = (
    "crossref.view_link",
    "crossref.view_network",
    "crossref.view_commonvalue",
    "crossref.view_allowedvalue",
)
# Which values never link is a hotline-wide decision: senior staff edit the allowlist.
EDIT_ALLOWLIST = (
    "crossref.add_allowedvalue",
    "crossref.change_allowedvalue",
    "crossref.delete_allowedvalue",
)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ANALYST: (*READ_INTAKE, *READ_CROSSREF),
    SENIOR_ANALYST: (*READ_INTAKE, *READ_CROSSREF, *EDIT_ALLOWLIST),
    SUPERVISOR: (*READ_INTAKE, *READ_CROSSREF, *EDIT_ALLOWLIST, "intake.view_provider"),
    ADMIN: (*READ_INTAKE, *READ_CROSSREF, *EDIT_ALLOWLIST, "intake.view_provider"),
    LIAISON: (),
}
