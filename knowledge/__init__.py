"""Comptoir knowledge."""
