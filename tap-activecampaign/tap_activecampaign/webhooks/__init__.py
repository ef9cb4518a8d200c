"""Real-time path: the ActiveCampaign webhook receiver, its durable queue and admin commands."""
