"""Domain services. Nothing here imports aiogram: every service can be driven from a script."""
