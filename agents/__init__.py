"""Comptoir agents."""
