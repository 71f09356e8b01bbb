"""Retention: the rules that say when a closed family's records go, and the disposal
that removes them."""
