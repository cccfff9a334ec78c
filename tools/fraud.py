"""Tools of the fraud agent."""
