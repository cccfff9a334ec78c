"""Tools of the orders agent."""
