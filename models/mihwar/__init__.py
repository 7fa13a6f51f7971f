"""Mihwar integrations: organizations and API keys, inventory, purchase orders, order history, predictions."""
