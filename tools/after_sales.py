"""Tools of the after_sales agent."""
