"""Coaching layer: the chain, `Coach`, input screens, intents, follow-ups and the tools."""
