"""SCP Integration API models: tenants and the OAuth clients their scoped tokens are issued to."""
