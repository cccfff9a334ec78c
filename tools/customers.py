"""Tools of the customers agent."""
