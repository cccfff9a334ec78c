"""Comptoir evals."""
