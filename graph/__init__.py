"""Comptoir graph."""
