"""Tools of the risk agent."""
