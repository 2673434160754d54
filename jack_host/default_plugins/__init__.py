"""The host's own plugins: core features use the same hooks as third-party plugins."""
