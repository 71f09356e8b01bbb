"""Adapters to Cosmos DB, Blob Storage, SMS and transcription."""
