"""FamilyStory's models, services, ports and adapters. The Functions library stays at the edge."""
