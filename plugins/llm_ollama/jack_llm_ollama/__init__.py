"""Local LLM provider through Ollama for Jack The Butler."""

__version__ = "0.1.0"
