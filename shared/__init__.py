"""FamilyStory's models, services, access rules and adapters. Never imports azure.functions."""
