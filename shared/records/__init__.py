"""Case records: the kinds, their models and rules, and the service that stores them
through the record port."""
