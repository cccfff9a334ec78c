"""Tools of the inventory agent."""
