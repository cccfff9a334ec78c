"""The data layer: tables, engine, migrations and demo data."""
