"""Evidence: signals from work tools, the connectors that produce them, and their ingestion."""
