"""IDL Purchase Order Tool: users and roles, JobCost and Timberline reference data, purchase orders."""
