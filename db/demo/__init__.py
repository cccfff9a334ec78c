"""Deterministic demo data for Maison Lumen, a multi-marketplace electronics merchant."""
