"""Comptoir tools."""
