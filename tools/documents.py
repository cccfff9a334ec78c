"""Tools of the documents agent."""
