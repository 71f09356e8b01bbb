"""Thin trigger adapters: decode the trigger input, call a service, encode the result."""
