"""Tools of the transport agent."""
