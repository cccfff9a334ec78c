"""Tools of the payments agent."""
