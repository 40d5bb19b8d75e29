"""Identity and access: subjects, roles, the visibility rule and API tokens."""
