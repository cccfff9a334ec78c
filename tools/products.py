"""Tools of the products agent."""
