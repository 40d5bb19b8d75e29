"""People and org: employees, the org tree, reporting lines, sensitive attributes, HRIS import."""
