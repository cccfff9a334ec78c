"""Tools of the knowledge agent."""
