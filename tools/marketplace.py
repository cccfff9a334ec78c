"""Tools of the marketplace agent."""
