"""Tools of the backoffice agent."""
