"""Safety alerts: a family member asks for help, staff are texted at once, the duty team if no one
acknowledges in time (``shared.safety.alerts``)."""
