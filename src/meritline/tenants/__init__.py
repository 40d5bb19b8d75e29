"""Tenants: create and look up the organisations meritline serves."""
