"""Reference implementations the agent is measured against, written in this project."""
