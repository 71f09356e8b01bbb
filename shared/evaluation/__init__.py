"""The pilot's evaluation: weekly aggregates per team, kept by a timer, read by one endpoint."""
