"""LLM access for the host: LiteLLM-backed providers and the service that picks one."""
