"""Settings and logging: the one layer every other package may import."""
