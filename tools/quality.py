"""Tools of the quality agent."""
