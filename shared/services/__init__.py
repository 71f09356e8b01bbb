"""Services: plain functions taking their dependencies; the functions layer calls these."""
