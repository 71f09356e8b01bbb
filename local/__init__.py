"""What runs only on a developer's machine: emulators, the local host, dev tokens."""
