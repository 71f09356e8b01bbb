"""Offline sync: the push of queued operations and the pull of changes."""
