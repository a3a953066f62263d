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
READ_ORIENT = (
    "orient.view_destination",
    "orient.view_rule",
    "orient.view_routing",
    "orient.view_dispatch",
    "orient.view_takedown",
)
# Rules and the destinations directory decide where reports go: supervisors edit them.
EDIT_ROUTING = (
    "orient.add_rule",
    "orient.change_rule",
    "orient.delete_rule",
    "orient.add_destination",
    "orient.change_destination",
)
# Supervisors search and export the audit log; nobody changes it.
READ_AUDIT = ("common.view_auditrecord",)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ANALYST: (*READ_INTAKE, *READ_CROSSREF, *READ_ORIENT),
    SENIOR_ANALYST: (*READ_INTAKE, *READ_CROSSREF, *READ_ORIENT, *EDIT_ALLOWLIST),
    SUPERVISOR: (
        *READ_INTAKE,
        *READ_CROSSREF,
        *READ_ORIENT,
        *EDIT_ALLOWLIST,
        *EDIT_ROUTING,
        *READ_AUDIT,
        "intake.view_provider",
    ),
    ADMIN: (
        *READ_INTAKE,
        *READ_CROSSREF,
        *READ_ORIENT,
        *EDIT_ALLOWLIST,
        *EDIT_ROUTING,
        *READ_AUDIT,
        "intake.view_provider",
    ),
    LIAISON: (),
}
