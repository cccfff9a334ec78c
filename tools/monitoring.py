"""Tools of the monitoring agent."""
