"""Adapters to Cosmos DB, Blob Storage, SMS and transcription: each implements a port of
``shared.ports`` (or ``shared.sms.port``, ``shared.reminders.ports``) on an Azure SDK, and this
package is the only one that imports an Azure SDK."""
